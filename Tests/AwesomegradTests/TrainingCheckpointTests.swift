import Foundation
import Testing

@testable import Awesomegrad

/// Resumable training in the library: a loop written as a user would write it (MLP 4-8-3 with
/// dropout, a cosine schedule, shuffled mini-batches, a draw from the loop's generator every step)
/// is stopped without warning after some steps, started again from nothing but the checkpoint
/// folder, and must end with the same bits as a run that never stopped.
@Suite struct TrainingCheckpointTests {
  enum OptimizerKind: String, CaseIterable { case adamW, sgdMomentum, adam }

  /// A scratch folder, removed by the caller.
  static func scratch() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("training-\(UUID().uuidString)")
      .path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  /// The toy run, built from its seed as a fresh process would build it.
  final class ToyRun {
    let model: Sequential<Float>
    let optimizer: any StatefulOptimizer<Float>
    let checkpoint: TrainingCheckpoint<Float>
    var state: TrainingState
    let features: Tensor<Float>
    let labels: [Int]
    let schedule = CosineWithWarmup(peak: 0.05, minimum: 0.005, warmupSteps: 2, totalSteps: 12)

    init(_ kind: OptimizerKind, width: Int = 8) {
      var rng = SeededGenerator(seed: 7)
      model = Sequential(
        Linear(inputs: 4, outputs: width, using: &rng), ReLU(), Dropout(probability: 0.25, using: &rng),
        Linear(inputs: width, outputs: 3, using: &rng))
      switch kind {
      case .adamW: optimizer = AdamW(model.parameters, learningRate: 0.05, weightDecay: 0.1)
      case .sgdMomentum: optimizer = SGD(model.parameters, learningRate: 0.05, momentum: 0.9, nesterov: true)
      case .adam: optimizer = Adam(model.parameters, learningRate: 0.05)
      }
      checkpoint = TrainingCheckpoint(model: model, optimizers: [optimizer])
      var data = SeededGenerator(seed: 99)
      features = Tensor.randomUniform([30, 4], low: -1, high: 1, using: &data)
      labels = (0..<30).map { _ in Int.random(in: 0..<3, using: &data) }
      state = TrainingState(generator: rng)
    }

    /// Trains 3 epochs of 4 batches (8, 8, 8, 6 samples), writing a checkpoint every `every` steps;
    /// returns early, as if killed, after step `killedAfter`.
    func train(in directory: CheckpointDirectory?, every: Int = 2, killedAfter: Int? = nil) throws {
      if let directory, let resumed = try directory.resume(checkpoint) { state = resumed.state }
      while state.epoch < 3 {
        for indices in state.epochBatches(count: 30, batchSize: 8).dropFirst(state.batchInEpoch) {
          optimizer.zeroGrad()
          let weight = 1 + Float.random(in: 0..<1, using: &state.generator)  // a draw each step
          let loss = crossEntropy(model(features.gatheringRows(indices)), labels: indices.map { labels[$0] })
          (loss * Tensor(scalar: weight)).backward()
          optimizer.learningRate = schedule(state.step)
          optimizer.step()
          state.finishStep()
          state.values["loss_sum", default: 0] += Double(loss.item())
          if state.step == killedAfter { return }
          if let directory, state.step % every == 0 { try directory.save(checkpoint, state) }
        }
        state.finishEpoch()
      }
    }

    /// Every parameter's bits.
    var bits: [[UInt32]] { model.parameters.map { $0.scalars.map(\.bitPattern) } }
  }

  @Test(arguments: OptimizerKind.allCases)
  func killedRunsResumeBitForBit(_ kind: OptimizerKind) throws {
    let uninterrupted = ToyRun(kind)
    try uninterrupted.train(in: nil)
    #expect(uninterrupted.state.step == 12)

    let folder = try Self.scratch()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let directory = CheckpointDirectory(folder)
    // Killed after steps 3, 5 (the checkpoint of step 4 is mid-epoch 2), 9 and 11: each restart
    // loses the steps since the last checkpoint and does them again.
    var lastResumedStep: [Int] = []
    for killedAfter in [3, 5, 9, 11, nil] {
      let run = ToyRun(kind)
      if let newest = try directory.checkpointFiles().first { lastResumedStep.append(newest.step) }
      try run.train(in: directory, killedAfter: killedAfter)
      if killedAfter == nil {
        #expect(run.bits == uninterrupted.bits, "\(kind): the resumed run ended elsewhere")
        #expect(run.state == uninterrupted.state)
        #expect(
          run.optimizer.stateTensors().mapValues { $0.scalars }
            == uninterrupted.optimizer.stateTensors().mapValues { $0.scalars })
      }
    }
    #expect(lastResumedStep == [2, 4, 8, 10])
    // Not vacuous: training moved the weights, and a run that restarts without its checkpoints differs.
    #expect(ToyRun(kind).bits != uninterrupted.bits)
  }

  /// The dropout layer's generator is part of the checkpoint: without it the masks after a resume
  /// would differ.
  @Test func dropoutGeneratorsAreRestored() throws {
    let run = ToyRun(.adamW)
    try run.train(in: nil, killedAfter: 5)
    let bytes = try run.checkpoint.bytes(run.state)
    let file = try SafeTensorsFile(bytes: bytes)
    #expect(file.names.contains("rng.module.2"))
    let fresh = ToyRun(.adamW)
    let dropout = try #require(fresh.model.namedModules.compactMap { $0.module as? Dropout<Float> }.first)
    let before = dropout.generator
    let state = try fresh.checkpoint.load(bytes: bytes, path: "memory")
    #expect(state == run.state)
    #expect(dropout.generator != before)
    #expect(
      dropout.generator
        == (run.model.namedModules.compactMap { $0.module as? Dropout<Float> }.first!.generator))
  }

  /// Batch norm's running statistics and its integer counter come back exactly, the counter past
  /// 2²⁴, where a Float would round it.
  @Test func integerBuffersComeBackExactly() throws {
    func make() -> (Sequential<Float>, TrainingCheckpoint<Float>) {
      var rng = SeededGenerator(seed: 2)
      let model = Sequential<Float>(Linear(inputs: 3, outputs: 4, using: &rng), BatchNorm1d(features: 4))
      return (model, TrainingCheckpoint(model: model, optimizers: []))
    }
    let (model, checkpoint) = make()
    var data = SeededGenerator(seed: 4)
    _ = model(Tensor<Float>.randomNormal([5, 3], using: &data))  // moves the running statistics
    let counter = try #require(model.namedIntegerBuffers.first)
    #expect(counter.name == "1.num_batches_tracked")
    counter.buffer.values = [(1 << 24) + 3]
    let bytes = try checkpoint.bytes(TrainingState(generator: SeededGenerator(seed: 0)))
    let (fresh, freshCheckpoint) = make()
    _ = try freshCheckpoint.load(bytes: bytes, path: "memory")
    #expect(fresh.namedIntegerBuffers.first?.buffer.values == [(1 << 24) + 3])
    #expect(fresh.namedBuffers.map { $0.tensor.scalars } == model.namedBuffers.map { $0.tensor.scalars })
    #expect(try SafeTensorsFile(bytes: bytes).entries["model.1.num_batches_tracked"]?.dtype == .I64)
  }

  @Test func generatorStateRoundTrips() throws {
    var generator = SeededGenerator(seed: 3)
    for _ in 0..<5 { _ = generator.next() }
    var copy = try #require(SeededGenerator(state: generator.state))
    #expect((0..<10).map { _ in copy.next() } == (0..<10).map { _ in generator.next() })
    #expect(SeededGenerator(state: [0, 0, 0, 0]) == nil)
    #expect(SeededGenerator(state: [1, 2, 3]) == nil)
  }

  @Test func keepsTheLastCheckpoints() throws {
    let folder = try Self.scratch()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let run = ToyRun(.adam)
    let directory = CheckpointDirectory(folder, keep: 3)
    for step in [1, 2, 3, 4, 5] {
      run.state.step = step
      try directory.save(run.checkpoint, run.state)
    }
    #expect(try directory.checkpointFiles().map(\.step) == [5, 4, 3])
    // A file of a later step than the one written (left by a run that resumed from an earlier one)
    // goes too, and so does a temporary file of an interrupted write.
    #expect(
      FileManager.default.createFile(
        atPath: folder + "/.step-000000009.safetensors.1-2.tmp", contents: Data([1])))
    run.state.step = 9
    try directory.save(run.checkpoint, run.state)
    run.state.step = 6
    try directory.save(run.checkpoint, run.state)
    #expect(try directory.checkpointFiles().map(\.step) == [6, 5, 4])
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == [
        "step-000000004.safetensors", "step-000000005.safetensors", "step-000000006.safetensors",
      ])
    #expect(CheckpointDirectory.fileName(step: 123) == "step-000000123.safetensors")
    #expect(CheckpointDirectory.step(inFileName: "step-1234567890.safetensors") == 1_234_567_890)
    #expect(CheckpointDirectory.step(inFileName: "step-.safetensors") == nil)
    #expect(CheckpointDirectory.step(inFileName: "step-12.safetensors.tmp") == nil)
  }

  /// The newest file is torn (half of it), then corrupted (one byte of its data changed), then not a
  /// training checkpoint at all: each time the run resumes from the one before, with a warning that
  /// names the file, and the bad file is never loaded.
  @Test func aCorruptNewestCheckpointIsSkippedWithAWarning() throws {
    let folder = try Self.scratch()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let directory = CheckpointDirectory(folder, keep: 5)
    let reference = ToyRun(.adamW)
    try reference.train(in: directory, every: 4, killedAfter: 9)  // checkpoints at 4 and 8
    let atFour = ToyRun(.adamW), atEight = ToyRun(.adamW)
    try atFour.train(in: nil, killedAfter: 4)
    try atEight.train(in: nil, killedAfter: 8)
    let newest = directory.filePath(step: 8)
    let good = try Data(contentsOf: URL(fileURLWithPath: newest))

    func resumeWarnings() throws -> (TrainingState?, [String], ToyRun) {
      let run = ToyRun(.adamW)
      var warnings: [String] = []
      let resumed = try directory.resume(run.checkpoint) { warnings.append($0) }
      return (resumed?.state, warnings, run)
    }
    var flipped = good
    flipped[flipped.count - 3] ^= 0x10
    // A tensor's name changed in the header: still a well-formed safetensors file.
    var changedHeader = good
    let name = Array("loop.step\"".utf8)
    let at = try #require(
      (0..<(good.count - name.count)).first { Array(good[$0..<($0 + name.count)]) == name })
    changedHeader[at + 6] = UInt8(ascii: "x")
    let model = ToyRun(.adamW)
    try model.model.save(to: folder + "/model.safetensors")
    let cases: [(String, Data, String)] = [
      ("torn", good.prefix(good.count / 2), "truncated"),
      ("empty", Data(), "header too small"),
      ("one byte changed", flipped, "checksum"),
      ("a name changed", changedHeader, "checksum"),
      ("a model file", try Data(contentsOf: URL(fileURLWithPath: folder + "/model.safetensors")), "format"),
    ]
    for (name, bytes, reason) in cases {
      try bytes.write(to: URL(fileURLWithPath: newest))
      let (state, warnings, run) = try resumeWarnings()
      #expect(state?.step == 4, "\(name)")
      #expect(warnings.count == 1, "\(name): \(warnings)")
      #expect(
        warnings.first?.hasPrefix("warning: skipping \(newest): not a valid training checkpoint") == true,
        "\(name)")
      #expect(warnings.first?.contains(reason) == true, "\(name): \(warnings)")
      #expect(run.bits == atFour.bits, "\(name): the model is not the one of step 4")
    }
    // Garbage under a later step's name, and files that are not checkpoints, are skipped or ignored.
    #expect(
      FileManager.default.createFile(
        atPath: directory.filePath(step: 12), contents: Data((0..<200).map { UInt8($0) })))
    #expect(FileManager.default.createFile(atPath: folder + "/notes.txt", contents: Data("hello".utf8)))
    try good.write(to: URL(fileURLWithPath: newest))
    let (state, warnings, run) = try resumeWarnings()
    #expect(state?.step == 8)
    #expect(warnings.count == 1 && warnings[0].contains("step-000000012.safetensors"), "\(warnings)")
    #expect(run.bits == atEight.bits)
  }

  /// A valid checkpoint of another model is an error, not a reason to start over, and changes nothing.
  @Test func aCheckpointOfAnotherModelIsRefused() throws {
    let folder = try Self.scratch()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let directory = CheckpointDirectory(folder)
    let wide = ToyRun(.adamW, width: 16)
    try wide.train(in: directory, every: 2, killedAfter: 3)
    let narrow = ToyRun(.adamW)
    let before = narrow.bits
    let error = #expect(throws: TrainingCheckpointError.self) { try directory.resume(narrow.checkpoint) }
    guard case .doesNotFit(let path, let reason) = error else {
      Issue.record("expected doesNotFit, got \(String(describing: error))")
      return
    }
    #expect(path == directory.filePath(step: 2))
    #expect(reason.contains("[16, 4]"), "\(reason)")
    #expect(narrow.bits == before)
    #expect(narrow.optimizer.stateTensors().isEmpty)
    // Another number of optimizers.
    let two = TrainingCheckpoint(
      model: wide.model, optimizers: [wide.optimizer, SGD(wide.model.parameters, learningRate: 1)])
    #expect(throws: TrainingCheckpointError.self) { try directory.resume(two) }
  }

  /// A folder that cannot be created is a typed error naming the file; the loop decides.
  @Test func anUnwritableFolderIsATypedErrorNamingThePath() throws {
    let folder = try Self.scratch()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    #expect(FileManager.default.createFile(atPath: folder + "/file", contents: Data()))
    let directory = CheckpointDirectory(folder + "/file/checkpoints")
    let run = ToyRun(.adam)
    let error = #expect(throws: TrainingCheckpointError.self) {
      try directory.save(run.checkpoint, run.state)
    }
    guard case .unwritable(let path, let reason) = error else {
      Issue.record("expected unwritable, got \(String(describing: error))")
      return
    }
    #expect(path == folder + "/file/checkpoints/step-000000000.safetensors")
    #expect(reason.contains("cannot create the folder"), "\(reason)")
  }

  /// A full disk, for real: a 192 KiB tmpfs (mounted here, as root) holds one checkpoint of a model
  /// of 8,192 parameters (32 KiB, with AdamW's two moments 96 KiB) and then nothing more. The write
  /// fails with a typed error naming the file and the reason, leaves no temporary file, and the
  /// earlier checkpoint still loads. Skipped, with the reason printed, where mounting is not allowed.
  @Test func aFullDiskKeepsThePreviousCheckpoint() throws {
    let folder = try Self.scratch()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let mount = try Self.runTool("/bin/mount", ["-t", "tmpfs", "-o", "size=192k", "tmpfs", folder])
    guard mount.status == 0 else {
      print(
        "aFullDiskKeepsThePreviousCheckpoint skipped: cannot mount a tmpfs here (\(mount.output)); it needs root"
      )
      return
    }
    defer { _ = try? Self.runTool("/bin/umount", ["-l", folder]) }
    var rng = SeededGenerator(seed: 1)
    let model = Sequential<Float>(Linear(inputs: 127, outputs: 64, using: &rng))
    let optimizer = AdamW(model.parameters)
    let checkpoint = TrainingCheckpoint(model: model, optimizers: [optimizer])
    model.parameters.forEach { $0.setGradient([Float](repeating: 0.5, count: $0.count)) }
    optimizer.step()
    var state = TrainingState(generator: rng)
    let directory = CheckpointDirectory(folder + "/run")
    state.step = 1
    try directory.save(checkpoint, state)
    let savedBits = model.parameters.map { $0.scalars.map(\.bitPattern) }
    optimizer.step()
    state.step = 2
    let error = #expect(throws: TrainingCheckpointError.self) { try directory.save(checkpoint, state) }
    guard case .unwritable(let path, let reason) = error else {
      Issue.record("expected unwritable, got \(String(describing: error))")
      return
    }
    #expect(path == directory.filePath(step: 2))
    #expect(reason.contains("No space left on device"), "\(reason)")
    #expect(error?.description.contains(path) == true)
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: folder + "/run") == ["step-000000001.safetensors"])
    var fresh = SeededGenerator(seed: 1)
    let restored = Sequential<Float>(Linear(inputs: 127, outputs: 64, using: &fresh))
    let resumed = try directory.resume(
      TrainingCheckpoint(model: restored, optimizers: [AdamW(restored.parameters)]))
    #expect(resumed?.state.step == 1)
    #expect(restored.parameters.map { $0.scalars.map(\.bitPattern) } == savedBits)
  }

  /// A stop signal is seen by the loop, not acted on inside a handler (SIGUSR2 here, so that a
  /// failure cannot end the test run the way a stray SIGTERM would be mistaken for).
  @Test func aSignalRequestsAStop() throws {
    let stop = StopSignal(signals: [SIGUSR2], announce: false)
    defer { stop.cancel() }
    #expect(!stop.isRequested)
    kill(getpid(), SIGUSR2)
    let deadline = Date().addingTimeInterval(5)
    while !stop.isRequested && Date() < deadline { usleep(1000) }
    #expect(stop.isRequested)
    #expect(stop.receivedSignal == SIGUSR2)
    let manual = StopSignal(signals: [])
    manual.request()
    #expect(manual.receivedSignal == 0)
  }

  /// Runs a tool, returning its status and its output (stdout and stderr together).
  static func runTool(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    guard FileManager.default.isExecutableFile(atPath: path) else { return (127, "\(path) not found") }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (
      process.terminationStatus,
      String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    )
  }
}
