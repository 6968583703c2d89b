/// Why a training checkpoint could not be written or used. Every case names the file or folder.
public enum TrainingCheckpointError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The checkpoint could not be written: a full disk, a folder that cannot be created or written,
  /// a failing device. Nothing was put in its place, and the checkpoints written before are intact
  /// and loadable; the training loop decides whether to go on.
  case unwritable(path: String, reason: String)
  /// The file is not a complete, valid training checkpoint (torn by a crash while written, truncated,
  /// corrupted, or not a checkpoint at all). ``CheckpointDirectory`` skips such files.
  case invalid(path: String, reason: String)
  /// A valid checkpoint of another model or optimizer set-up (names, shapes or the number of
  /// optimizers differ). It is not loaded and nothing is changed.
  case doesNotFit(path: String, reason: String)
  /// The checkpoint folder cannot be listed.
  case unreadableDirectory(path: String, reason: String)

  /// One line: the path, what is wrong and what to do.
  public var description: String {
    switch self {
    case .unwritable(let path, let reason):
      "\(path): cannot write the checkpoint: \(reason); the previous checkpoints are kept"
    case .invalid(let path, let reason):
      "\(path): not a valid training checkpoint: \(reason)"
    case .doesNotFit(let path, let reason):
      "\(path): the checkpoint does not fit this model and optimizers: \(reason); start in another "
        + "checkpoint folder, or with the settings it was written with"
    case .unreadableDirectory(let path, let reason):
      "\(path): cannot list the checkpoint folder: \(reason)"
    }
  }
}
