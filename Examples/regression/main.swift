// Linear regression on synthetic data, trained with SGD and with Adam, next to the exact
// least-squares solution from LAPACK (dgels).
//
//     swift run -c release regression
import ArgumentParser
import Awesomegrad
import Foundation

@main
struct Regression: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Fit y = x·w + b by gradient descent (SGD, Adam) and compare with LAPACK's least squares.",
    discussion: """
      Draws x ~ N(0, 1) of shape [samples, 3] and y = x·w* + b* + noise with w* = [2, −3.5, 1.25], b* = 0.7.
      Both optimizers minimise the mean squared error over the full batch.
      """)

  @Option(help: "Number of samples.")
  var samples = 200

  @Option(help: "Standard deviation of the noise added to y.")
  var noise = 0.1

  @Option(help: "Gradient steps per optimizer.")
  var steps = 500

  @Option(help: "Seed for the data and the initial weights.")
  var seed: UInt64 = 0

  @Flag(help: "Print the BLAS backend first: OpenBLAS version, kernel (core), threads, kernel correction.")
  var verbose = false

  mutating func run() throws {
    if verbose { print("BLAS: \(BLASBackend.current)\n      \(BLASBackend.current.config)") }
    let trueWeights: [Double] = [2, -3.5, 1.25], trueBias = 0.7
    var rng = SeededGenerator(seed: seed)
    let x = Tensor<Double>.randomNormal([samples, 3], using: &rng)
    let noiseTerm = Tensor<Double>.randomNormal([samples, 1], standardDeviation: noise, using: &rng)
    let y = x.matmul(Tensor(trueWeights, shape: [3, 1])) + trueBias + noiseTerm

    // Exact least squares on [x, 1]: the weights and the bias that minimise ‖[x 1]·θ − y‖².
    var design: [Double] = []
    for (i, value) in x.scalars.enumerated() {
      design.append(value)
      if i % 3 == 2 { design.append(1) }
    }
    let exact = try leastSquares(Tensor(design, shape: [samples, 4]), y).scalars

    print("\(samples) samples, 3 features, noise σ = \(noise), seed \(seed)")
    print("true weights \(format(trueWeights)), bias \(format([trueBias]))")
    print("dgels         \(format(Array(exact[0..<3]))), bias \(format([exact[3]]))")

    for name in ["SGD", "Adam"] {
      var initRng = SeededGenerator(seed: seed &+ 1)
      let model = Linear<Double>(inputs: 3, outputs: 1, using: &initRng)
      let optimizer: any Optimizer<Double> =
        name == "SGD"
        ? SGD(model.parameters, learningRate: 0.1)
        : Adam(model.parameters, learningRate: 0.05)
      var loss = 0.0
      for _ in 0..<steps {
        optimizer.zeroGrad()
        let error = model(x) - y
        let mse = (error * error).mean()
        mse.backward()
        optimizer.step()
        loss = mse.item()
      }
      let learned = model.weight.scalars + model.bias!.scalars
      let difference = zip(learned, exact).map { abs($0 - $1) }.max()!
      print(
        "\(name.padding(toLength: 14, withPad: " ", startingAt: 0))\(format(Array(learned[0..<3]))), "
          + "bias \(format([learned[3]]))  mse \(String(format: "%.6f", loss))  "
          + "max |θ − θ_dgels| = \(String(format: "%.2e", difference))")
    }
  }

  func format(_ values: [Double]) -> String {
    "[" + values.map { String(format: "%8.5f", $0) }.joined(separator: ", ") + "]"
  }
}
