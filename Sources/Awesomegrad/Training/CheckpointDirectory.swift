import Foundation

/// A folder of training checkpoints, `step-000000120.safetensors`, of which it keeps the last few.
///
/// ``save(_:_:metadata:)`` writes the checkpoint of the current step atomically and then removes
/// the older ones beyond ``keep``. ``resume(_:warning:)`` finds the newest checkpoint that is
/// complete and valid, restores it into the model and optimizers, and returns the loop's state; a
/// torn or corrupt file is skipped with a warning and never loaded.
///
/// ```swift
/// let checkpoints = CheckpointDirectory("runs/mlp")           // keeps the last 2
/// let checkpoint = TrainingCheckpoint(model: model, optimizers: [optimizer])
/// var state = TrainingState(generator: rng)
/// if let resumed = try checkpoints.resume(checkpoint) {
///   state = resumed.state
///   print("resumed from step \(state.step)")
/// }
/// …
/// if state.step % 100 == 0 { try checkpoints.save(checkpoint, state) }
/// ```
///
/// One process writes a folder at a time. A file written for a step later than the one being saved
/// (left by a run that resumed from an earlier checkpoint because that one was corrupt) is removed
/// with the old ones.
public struct CheckpointDirectory: Sendable {
  /// The folder.
  public let path: String
  /// How many checkpoints ``save(_:_:metadata:)`` keeps, the newest one included.
  public let keep: Int

  /// The folder `path` (created by the first save), keeping the last `keep` checkpoints (at least 1).
  public init(_ path: String, keep: Int = 2, file: StaticString = #fileID, line: UInt = #line) {
    if keep < 1 {
      argumentFailure("CheckpointDirectory", "keep must be at least 1, got \(keep)", file: file, line: line)
    }
    if path.isEmpty { argumentFailure("CheckpointDirectory", "the path is empty", file: file, line: line) }
    self.path = path
    self.keep = keep
  }

  /// The file name of the checkpoint of `step`: `step-` and at least nine digits, so that names sort
  /// as steps do.
  public static func fileName(step: Int) -> String {
    let digits = String(step)
    return "step-" + String(repeating: "0", count: Swift.max(0, 9 - digits.count)) + digits + ".safetensors"
  }

  /// The path of the checkpoint of `step` in this folder.
  public func filePath(step: Int) -> String {
    (path as NSString).appendingPathComponent(Self.fileName(step: step))
  }

  /// The checkpoint files in the folder with their steps, newest first (by the step in the name; the
  /// files are not read). Empty when the folder does not exist.
  public func checkpointFiles() throws(TrainingCheckpointError) -> [(step: Int, path: String)] {
    let names: [String]
    do {
      names = try FileManager.default.contentsOfDirectory(atPath: path)
    } catch {
      var isDirectory: ObjCBool = false
      if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) { return [] }
      throw .unreadableDirectory(path: path, reason: Self.reason(error))
    }
    return names.compactMap { name -> (step: Int, path: String)? in
      guard let step = Self.step(inFileName: name) else { return nil }
      return (step, (path as NSString).appendingPathComponent(name))
    }.sorted { $0.step > $1.step }
  }

  /// The step in a checkpoint's file name, or nil for another name.
  static func step(inFileName name: String) -> Int? {
    guard name.hasPrefix("step-"), name.hasSuffix(".safetensors") else { return nil }
    let digits = name.dropFirst(5).dropLast(12)
    guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
      return nil
    }
    return Int(digits)
  }

  // MARK: Saving

  /// Writes the checkpoint of `state` as ``filePath(step:)`` of its step, atomically, creating the
  /// folder if needed; then removes the checkpoints beyond the newest ``keep`` (and any of a later
  /// step than this one) and stray temporary files of earlier writes.
  ///
  /// - Returns: the path written.
  /// - Throws: ``TrainingCheckpointError/unwritable(path:reason:)`` naming the file (a full disk,
  ///   a folder that cannot be created or written). The earlier checkpoints are then untouched, and
  ///   the loop decides whether to stop.
  @discardableResult
  public func save<Scalar>(
    _ checkpoint: TrainingCheckpoint<Scalar>, _ state: TrainingState, metadata: [String: String] = [:]
  ) throws(TrainingCheckpointError) -> String {
    let file = filePath(step: state.step)
    do {
      try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    } catch {
      throw .unwritable(path: file, reason: "cannot create the folder \(path): \(Self.reason(error))")
    }
    try checkpoint.write(state, to: file, metadata: metadata)
    removeOldCheckpoints(after: state.step)
    return file
  }

  /// Removes the checkpoints other than the one of `step` and the `keep − 1` newest before it, and
  /// temporary files that an interrupted write left. Failures are ignored: a file left over is
  /// harmless.
  private func removeOldCheckpoints(after step: Int) {
    guard let files = try? checkpointFiles() else { return }
    let kept = Set([step] + files.map(\.step).filter { $0 < step }.prefix(keep - 1))
    for file in files where !kept.contains(file.step) {
      try? FileManager.default.removeItem(atPath: file.path)
    }
    for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    where name.hasPrefix(".step-") && name.hasSuffix(".tmp") {
      try? FileManager.default.removeItem(atPath: (path as NSString).appendingPathComponent(name))
    }
  }

  // MARK: Resuming

  /// The newest checkpoint file that is complete and valid for `Scalar` tensors, with its bytes, for
  /// ``TrainingCheckpoint/load(bytes:path:)`` (a data-parallel job reads it on one rank and sends the
  /// bytes to the others); nil when there is none. Each newer file that is not valid is reported
  /// through `warning` and skipped.
  ///
  /// - Throws: ``TrainingCheckpointError/doesNotFit(path:reason:)`` when the newest valid file keeps
  ///   its tensors in another scalar type, and ``TrainingCheckpointError/unreadableDirectory(path:reason:)``.
  public func newestValidFile<Scalar: TensorScalar>(
    as _: Scalar.Type, warning: (String) -> Void = Self.printWarning
  ) throws(TrainingCheckpointError) -> (path: String, step: Int, bytes: [UInt8])? {
    try newestValid(as: Scalar.self, warning: warning).map {
      ($0.contents.path, $0.contents.state.step, $0.bytes)
    }
  }

  /// The newest valid checkpoint decoded, and its bytes.
  func newestValid<Scalar: TensorScalar>(
    as _: Scalar.Type, warning: (String) -> Void
  ) throws(TrainingCheckpointError) -> (contents: TrainingCheckpointContents<Scalar>, bytes: [UInt8])? {
    for file in try checkpointFiles() {
      do throws(TrainingCheckpointError) {
        let bytes: [UInt8]
        do {
          bytes = try readWholeFile(file.path)
        } catch {
          throw .invalid(path: file.path, reason: TrainingCheckpointContents<Scalar>.reason(error))
        }
        let contents = try TrainingCheckpointContents(bytes: bytes, path: file.path, as: Scalar.self)
        guard contents.state.step == file.step else {
          throw .invalid(
            path: file.path, reason: "it holds step \(contents.state.step), its name says \(file.step)")
        }
        return (contents, bytes)
      } catch {
        guard case .invalid = error else { throw error }
        warning("warning: skipping \(error)")
      }
    }
    return nil
  }

  /// Restores the newest complete and valid checkpoint into `checkpoint`'s model and optimizers and
  /// returns the loop's state and the file; nil when the folder holds none (or does not exist).
  /// Newer files that are torn or corrupt are skipped, each with a warning through `warning`.
  ///
  /// - Throws: ``TrainingCheckpointError/doesNotFit(path:reason:)`` when the newest valid checkpoint
  ///   is of another model or optimizer set-up (nothing is changed: rather than start over and
  ///   overwrite that run's checkpoints, the loop should stop), and
  ///   ``TrainingCheckpointError/unreadableDirectory(path:reason:)``.
  public func resume<Scalar>(
    _ checkpoint: TrainingCheckpoint<Scalar>, warning: (String) -> Void = Self.printWarning
  ) throws(TrainingCheckpointError) -> (state: TrainingState, path: String)? {
    guard let newest = try newestValid(as: Scalar.self, warning: warning) else { return nil }
    try checkpoint.restore(newest.contents)
    return (newest.contents.state, newest.contents.path)
  }

  /// Writes `message` and a newline to standard error.
  public static func printWarning(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
  }

  /// A Foundation error's message (the underlying POSIX one when there is one).
  static func reason(_ error: any Error) -> String {
    let nsError = error as NSError
    if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError {
      return underlying.localizedDescription
    }
    return nsError.localizedDescription
  }
}
