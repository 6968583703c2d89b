// The `checkpoint-directory` target: a folder of random, truncated and corrupted checkpoint files,
// read by `CheckpointDirectory.resume` as a resumed run reads its --checkpoint-dir.
//
// The input is a list of records, each making one entry of the folder:
//
//     kind (1 byte), step (1 byte), n (2 bytes, little-endian), then the record's own bytes
//
// kind % 8: 0 the next n bytes as the file; 1 a valid checkpoint cut to n bytes; 2 a valid one with
// byte n XORed with the next input byte; 3 a valid one; 4 a folder under a checkpoint's name; 5 a
// dangling symbolic link; 6 a valid checkpoint of another step (step >> 4) under this step's name;
// 7 a stray temporary file. The entry is named `step-<step % 16>.safetensors` (nine digits). Valid
// checkpoints are of a small model (Linear 3→2, dropout, Adam) at that step.
//
// Invariants: resume never traps and throws only typed errors; when it resumes, the file it chose
// loads again to the same state, the state's step is the file name's, and every checkpoint-named
// entry of a later step was reported by a warning; when it finds nothing, every entry was reported.

import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The small model every valid checkpoint of the target is of, and its optimizer.
final class FuzzCheckpointModel {
  let model: Sequential<Float>
  let optimizer: Adam<Float>
  let checkpoint: TrainingCheckpoint<Float>

  init() {
    var rng = SeededGenerator(seed: 5)
    model = Sequential(Linear(inputs: 3, outputs: 2, using: &rng), Dropout(probability: 0.5, using: &rng))
    optimizer = Adam(model.parameters, learningRate: 0.01)
    checkpoint = TrainingCheckpoint(model: model, optimizers: [optimizer])
  }

  /// The bytes of the checkpoint of `step`: `step` Adam steps on a fixed gradient.
  static let valid: [[UInt8]] = (0..<16).map { step in
    let run = FuzzCheckpointModel()
    for _ in 0..<step {
      for p in run.model.parameters { p.setGradient([Float](repeating: 0.25, count: p.count)) }
      run.optimizer.step()
    }
    var state = TrainingState(generator: SeededGenerator(seed: UInt64(step)))
    state.step = step
    state.values["loss"] = Double(step) / 3
    return try! run.checkpoint.bytes(state)
  }
}

/// The folder the target fills, one per process, emptied before each input: in memory (/dev/shm)
/// where there is one, since a disk's metadata updates made the target wait 15 ms per input.
let fuzzFolder: String = {
  var isDirectory: ObjCBool = false
  let base =
    FileManager.default.fileExists(atPath: "/dev/shm", isDirectory: &isDirectory) && isDirectory.boolValue
    ? "/dev/shm/" : NSTemporaryDirectory()
  let path = base + "awesomegrad-fuzz-checkpoints-\(getpid())"
  try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  atexit { try? FileManager.default.removeItem(atPath: fuzzFolder) }
  return path
}()

func fuzzCheckpointDirectory(_ bytes: [UInt8]) {
  for name in (try? FileManager.default.contentsOfDirectory(atPath: fuzzFolder)) ?? [] {
    try? FileManager.default.removeItem(atPath: fuzzFolder + "/" + name)
  }
  var position = 0
  var checkpointSteps = Set<Int>()  // entries under a checkpoint's name
  while position + 4 <= bytes.count, checkpointSteps.count < 16 {
    let kind = bytes[position] % 8, stepByte = Int(bytes[position + 1])
    let n = Int(bytes[position + 2]) | Int(bytes[position + 3]) << 8
    position += 4
    let step = stepByte % 16
    let path = fuzzFolder + "/" + CheckpointDirectory.fileName(step: step)
    let valid = FuzzCheckpointModel.valid[step]
    var contents: [UInt8]?
    switch kind {
    case 0:
      let end = min(bytes.count, position + n)
      contents = Array(bytes[position..<end])
      position = end
    case 1: contents = Array(valid.prefix(n % (valid.count + 1)))
    case 2:
      var changed = valid
      if position < bytes.count {
        changed[n % changed.count] ^= bytes[position]
        position += 1
      }
      contents = changed
    case 3: contents = valid
    case 4: try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    case 5: _ = symlink(fuzzFolder + "/missing-\(n)", path)
    case 6: contents = FuzzCheckpointModel.valid[(stepByte >> 4) % 16]
    default:
      contents = Array(valid.prefix(n % (valid.count + 1)))
      _ = FileManager.default.createFile(
        atPath: fuzzFolder + "/.step-\(step).safetensors.\(n).tmp", contents: Data(contents!))
      continue
    }
    if let contents, !FileManager.default.fileExists(atPath: path) {
      _ = FileManager.default.createFile(atPath: path, contents: Data(contents))
    }
    if FileManager.default.fileExists(atPath: path)
      || (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) != nil
    {
      checkpointSteps.insert(step)
    }
  }

  let run = FuzzCheckpointModel()
  var warnings: [String] = []
  let directory = CheckpointDirectory(fuzzFolder)
  let resumed: (state: TrainingState, path: String)?
  do {
    resumed = try directory.resume(run.checkpoint) { warnings.append($0) }
  } catch {
    // Typed: only a valid file of another model (which no record makes) or an unlistable folder.
    if case .invalid = error { fatalError("an invalid file was reported as an error, not skipped: \(error)") }
    return
  }
  guard let resumed else {
    precondition(
      warnings.count == checkpointSteps.count, "\(checkpointSteps.count) entries, \(warnings.count) warnings")
    return
  }
  let step = CheckpointDirectory.step(inFileName: (resumed.path as NSString).lastPathComponent)
  precondition(step == resumed.state.step, "resumed \(resumed.path) at step \(resumed.state.step)")
  precondition(warnings.count == checkpointSteps.filter { $0 > resumed.state.step }.count, "\(warnings)")
  let again = FuzzCheckpointModel()
  guard let state = try? again.checkpoint.load(contentsOf: resumed.path), state == resumed.state else {
    fatalError("\(resumed.path) was resumed from but does not load again to the same state")
  }
  precondition(
    again.model.parameters.map { $0.scalars.map(\.bitPattern) }
      == run.model.parameters.map { $0.scalars.map(\.bitPattern) })
  sink(resumed.state.step)
}
