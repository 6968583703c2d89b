import Foundation
import TestSupport
import Testing

/// The examples as a user runs them: killed with SIGKILL in the middle of a run, or stopped with
/// SIGTERM, and started again with the same command, they end with the same model file, byte for
/// byte, as a run that was never interrupted. Short runs of small models on small data made here.
@Suite struct ExampleResumeTests {
  /// A text of about 24 KB: words drawn with a fixed generator, in lines.
  static func writeText(to path: String) throws {
    let words = ["the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "and", "a", "cat", "sleeps"]
    var x: UInt64 = 7
    var text = ""
    for line in 0..<600 {
      for _ in 0..<7 {
        x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407  // Knuth's MMIX LCG
        text += words[Int(x >> 33) % words.count] + " "
      }
      text += line % 5 == 4 ? ".\n" : "\n"
    }
    try text.write(toFile: path, atomically: true, encoding: .utf8)
  }

  /// The final `train_loss` and `val_loss` char-lm printed with `--json`.
  static func losses(_ run: ExampleProcess) -> [Double?] {
    let object = (try? JSONSerialization.jsonObject(with: Data(run.output.utf8))) as? [String: Any]
    return [object?["train_loss"] as? Double, object?["val_loss"] as? Double]
  }

  /// char-lm at width 32 (one block), context 16, batch 8, 40 steps with evaluations every 10.
  static func charLMArguments(data: String) -> [String] {
    [
      "--data", data, "--steps", "40", "--layers", "1", "--width", "32", "--heads", "2", "--context", "16",
      "--batch-size", "8", "--eval-every", "10", "--eval-batches", "2", "--threads", "1", "--json",
    ]
  }

  /// Killed by SIGKILL just after its step-10 checkpoint, char-lm restarted with the same command
  /// resumes from step 10 and writes the same model as an uninterrupted run.
  @Test func charLMKilledAndRestartedEndsIdentical() throws {
    let charLM = try #require(ExampleProcess.executable("char-lm"), "char-lm is not built next to the tests")
    let folder = try ExampleProcess.scratch("char-lm-resume")
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try Self.writeText(to: folder + "/text.txt")
    let arguments = Self.charLMArguments(data: folder + "/text.txt") + ["--checkpoint-every", "5"]
    let reference = try ExampleProcess.run(
      charLM,
      arguments + ["--checkpoint-dir", folder + "/reference", "--save", folder + "/reference.safetensors"],
      in: folder, label: "reference")
    #expect(reference.process.terminationStatus == 0, "\(reference.errors)")

    let run = arguments + ["--checkpoint-dir", folder + "/run", "--save", folder + "/run.safetensors"]
    let killed = try ExampleProcess(charLM, run, in: folder, label: "killed")
    killed.wait(until: { FileManager.default.fileExists(atPath: folder + "/run/step-000000010.safetensors") })
    killed.send(SIGKILL)
    killed.wait()
    #expect(killed.process.terminationReason == .uncaughtSignal, "the run ended before it was killed")
    #expect(!FileManager.default.fileExists(atPath: folder + "/run.safetensors"))

    let resumed = try ExampleProcess.run(charLM, run, in: folder, label: "resumed")
    #expect(resumed.process.terminationStatus == 0, "\(resumed.errors)")
    #expect(resumed.errors.contains("resumed from step 1"), "\(resumed.errors)")
    #expect(
      try Data(contentsOf: URL(fileURLWithPath: folder + "/run.safetensors"))
        == Data(contentsOf: URL(fileURLWithPath: folder + "/reference.safetensors")))
    #expect(Self.losses(resumed) == Self.losses(reference), "the final losses differ")
  }

  /// SIGTERM: char-lm finishes its step, writes a checkpoint of it, says where and exits with status
  /// 0; the same command then ends where an uninterrupted run ends. A second signal exits at once.
  @Test func charLMStopsOnSIGTERMAndResumes() throws {
    let charLM = try #require(ExampleProcess.executable("char-lm"), "char-lm is not built next to the tests")
    let folder = try ExampleProcess.scratch("char-lm-sigterm")
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try Self.writeText(to: folder + "/text.txt")
    let arguments =
      Self.charLMArguments(data: folder + "/text.txt") + ["--eval-every", "5", "--checkpoint-every", "1000"]
    let reference = try ExampleProcess.run(
      charLM,
      arguments + ["--checkpoint-dir", folder + "/reference", "--save", folder + "/reference.safetensors"],
      in: folder, label: "reference")
    #expect(reference.process.terminationStatus == 0, "\(reference.errors)")

    let run = arguments + ["--checkpoint-dir", folder + "/run", "--save", folder + "/run.safetensors"]
    let stopped = try ExampleProcess(charLM, run, in: folder, label: "stopped")
    stopped.wait(until: { stopped.errors.contains("step 5 ") })
    stopped.send(SIGTERM)
    let signalled = Date()
    #expect(stopped.wait(deadline: 10))
    #expect(Date().timeIntervalSince(signalled) < 10)
    #expect(
      stopped.process.terminationReason == .exit && stopped.process.terminationStatus == 0,
      "\(stopped.errors)")
    let files = try FileManager.default.contentsOfDirectory(atPath: folder + "/run")
    #expect(files.count == 1, "\(files)")
    let step = files.first.flatMap { Int($0.dropFirst(5).prefix(9)) } ?? 0
    #expect((5..<40).contains(step), "\(files)")
    #expect(
      stopped.errors.contains("stopped at step \(step) of 40; checkpoint \(folder)/run/\(files.first ?? "")"))
    #expect(!FileManager.default.fileExists(atPath: folder + "/run.safetensors"))

    let resumed = try ExampleProcess.run(charLM, run, in: folder, label: "resumed")
    #expect(resumed.process.terminationStatus == 0, "\(resumed.errors)")
    #expect(resumed.errors.contains("resumed from step \(step)"), "\(resumed.errors)")
    #expect(
      try Data(contentsOf: URL(fileURLWithPath: folder + "/run.safetensors"))
        == Data(contentsOf: URL(fileURLWithPath: folder + "/reference.safetensors")))
  }

  /// The second SIGTERM does not wait for the step (a long one here: the default model at batch 128)
  /// and writes nothing: the process ends at once with status 128 + 15.
  @Test func aSecondSignalExitsAtOnce() throws {
    let charLM = try #require(ExampleProcess.executable("char-lm"), "char-lm is not built next to the tests")
    let folder = try ExampleProcess.scratch("char-lm-second-signal")
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try Self.writeText(to: folder + "/text.txt")
    let process = try ExampleProcess(
      charLM,
      [
        "--data", folder + "/text.txt", "--steps", "5", "--batch-size", "128", "--threads", "1", "--json",
        "--checkpoint-dir", folder + "/run",
      ], in: folder, label: "run")
    process.wait(until: { process.errors.contains("parameters;") })
    process.send(SIGTERM)
    process.wait(until: { process.errors.contains("SIGTERM: stopping after the current step") })
    process.send(SIGTERM)
    let signalled = Date()
    process.wait(deadline: 30)
    #expect(Date().timeIntervalSince(signalled) < 2, "\(process.errors)")
    #expect(process.process.terminationStatus == 128 + SIGTERM, "\(process.errors)")
    #expect(process.errors.contains("SIGTERM again: stopping now, without a checkpoint"), "\(process.errors)")
    #expect((try? FileManager.default.contentsOfDirectory(atPath: folder + "/run"))?.isEmpty ?? true)
  }

  /// fashion-mnist --model cnn on 64 training images (two epochs of four batches of 16), killed just
  /// after the checkpoint of step 2 and restarted: the same model as an uninterrupted run.
  @Test func fashionCNNKilledAndRestartedEndsIdentical() throws {
    let fashion = try #require(
      ExampleProcess.executable("fashion-mnist"), "fashion-mnist is not built next to the tests")
    let folder = try ExampleProcess.scratch("fashion-resume")
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try ExampleProcess.writeTinyFashionMNIST(to: folder, trainCount: 64, testCount: 16)
    let arguments = [
      "--data", folder, "--model", "cnn", "--epochs", "2", "--batch-size", "16", "--threads", "1",
      "--checkpoint-every", "2", "--json",
    ]
    let reference = try ExampleProcess.run(
      fashion,
      arguments + ["--checkpoint-dir", folder + "/reference", "--save", folder + "/reference.safetensors"],
      in: folder, label: "reference")
    #expect(reference.process.terminationStatus == 0, "\(reference.errors)")

    let run = arguments + ["--checkpoint-dir", folder + "/run", "--save", folder + "/run.safetensors"]
    let killed = try ExampleProcess(fashion, run, in: folder, label: "killed")
    killed.wait(until: { FileManager.default.fileExists(atPath: folder + "/run/step-000000002.safetensors") })
    killed.send(SIGKILL)
    killed.wait()
    #expect(killed.process.terminationReason == .uncaughtSignal, "the run ended before it was killed")

    let resumed = try ExampleProcess.run(fashion, run, in: folder, label: "resumed")
    #expect(resumed.process.terminationStatus == 0, "\(resumed.errors)")
    #expect(resumed.errors.contains("resumed from step "), "\(resumed.errors)")
    #expect(
      try Data(contentsOf: URL(fileURLWithPath: folder + "/run.safetensors"))
        == Data(contentsOf: URL(fileURLWithPath: folder + "/reference.safetensors")))
    let accuracy = { (run: ExampleProcess) in
      run.output.components(separatedBy: "\"test_accuracy\": ").last?.prefix(8)
    }
    #expect(accuracy(resumed) == accuracy(reference))
  }
}
