/// One Open MPI setting that decides how the ranks of a job talk, with its value and who chose it; the
/// list is ``DistributedContext/transport``.
///
/// The names are Open MPI's MCA parameters (`btl`, `pml`, `btl_vader_single_copy_mechanism`), plus
/// `binding` for the CPU set the rank runs on (`mpirun --bind-to`).
public struct TransportSetting: Sendable, Equatable, CustomStringConvertible {
  /// Who chose a setting's value.
  public enum Origin: Sendable, Equatable {
    /// The user: an `OMPI_MCA_<name>` environment variable (which is also how `mpirun --mca name
    /// value` reaches the ranks) or, for `binding`, one of mpirun's placement options.
    case environment
    /// An Open MPI parameter file (`$HOME/.openmpi/mca-params.conf`, the installation's
    /// `openmpi-mca-params.conf`, or a file named by `OMPI_MCA_mca_base_param_files`).
    case parameterFile
    /// Awesomegrad, because the user set nothing (see ``Distributed/initialize(_:timeout:)``).
    case awesomegrad
    /// Open MPI's own default, untouched.
    case openMPIDefault
  }

  /// The MCA parameter's name, or `binding`.
  public var name: String
  /// Its value, as Open MPI spells it (`self,vader`, `ob1`, `none`); for `binding`, a description.
  public var value: String
  /// Who chose the value.
  public var origin: Origin

  /// A setting.
  public init(name: String, value: String, origin: Origin) {
    (self.name, self.value, self.origin) = (name, value, origin)
  }

  /// `btl=self,vader (Awesomegrad's default)`.
  public var description: String {
    let by: String
    switch origin {
    case .environment: by = "yours: environment or mpirun option"
    case .parameterFile: by = "an Open MPI parameter file"
    case .awesomegrad: by = "Awesomegrad's default"
    case .openMPIDefault: by = "Open MPI's default"
    }
    return "\(name)=\(value) (\(by))"
  }
}
