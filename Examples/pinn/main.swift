// A physics-informed network: solve Poisson's equation −Δu = f on the unit square, with
// f(x, y) = 2π²·sin(πx)·sin(πy) and u = 0 on the boundary, whose solution is sin(πx)·sin(πy).
//
//     swift run -c release pinn [--steps 3000] [--seed 0] [--threads 1] [--json] [--svg pinn.svg]
//
// The loss needs the network's second derivatives in its inputs, u_xx + u_yy: the gradient of a
// gradient, taken with `gradients(of:at:createGraph:)`.
import ArgumentParser
import Awesomegrad
import ExamplePlots
import Foundation

@main
struct PINN: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Solve −Δu = 2π² sin(πx) sin(πy) on the unit square with a physics-informed network.",
    discussion: """
      u(x, y) = x(1−x)·y(1−y)·N(x, y) holds the boundary condition exactly; N is an MLP 2-32-32-32-1
      with tanh and PyTorch's default initialisation. Each Adam step (learning rate 1e-3) draws 1024
      fresh interior points and minimises mean((u_xx + u_yy + f)²), in Double. At the end the
      relative L2 error against sin(πx)·sin(πy) is measured on a 101×101 grid.
      """)

  @Option(help: "Adam steps.")
  var steps = 3000

  @Option(help: "Seed for the initial weights and the collocation points.")
  var seed: UInt64 = 0

  @Option(help: "The library's one thread count (pool and BLAS).")
  var threads = 1

  @Flag(help: "Print one JSON object at the end (steps, relative_l2_error, final_loss, ms_per_step).")
  var json = false

  @Option(help: "Write a heat map of the solution and of its error to this SVG file.")
  var svg: String?

  static let points = 1024, grid = 101

  mutating func run() throws {
    setThreadCount(threads)
    keepFreedMemoryForReuse()  // reuse freed activation buffers across steps (see its doc comment)
    var rng = SeededGenerator(seed: seed)
    let network = PoissonNetwork(using: &rng)
    let optimizer = Adam(network.parameters, learningRate: 1e-3)
    var loss = 0.0
    let start = Date()
    for step in 1...max(steps, 1) where steps > 0 {
      let x = Tensor<Double>.randomUniform([Self.points, 1], low: 0, high: 1, using: &rng).requireGrad()
      let y = Tensor<Double>.randomUniform([Self.points, 1], low: 0, high: 1, using: &rng).requireGrad()
      let residual = network.laplacian(x, y) + source(x, y)
      let meanSquare = (residual * residual).mean()
      optimizer.zeroGrad()
      meanSquare.backward()
      optimizer.step()
      loss = meanSquare.item()
      if !json && (step % 500 == 0 || step == 1) {
        print("step \(step)  loss \(String(format: "%.3e", loss))")
      }
    }
    let milliseconds = steps > 0 ? Date().timeIntervalSince(start) * 1000 / Double(steps) : 0
    let (solution, exact) = evaluateOnGrid(network)
    let error =
      zip(solution, exact).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
      / exact.map { $0 * $0 }.reduce(0, +).squareRoot()
    if let svg {
      try heatMaps(solution: solution, exact: exact).write(toFile: svg, atomically: true, encoding: .utf8)
    }
    if json {
      print(
        "{\"steps\": \(steps), \"relative_l2_error\": \(error), \"final_loss\": \(loss), "
          + "\"ms_per_step\": \(milliseconds)}")
    } else {
      print(
        "relative L2 error \(String(format: "%.3e", error)) on a \(Self.grid)×\(Self.grid) grid, "
          + "\(String(format: "%.2f", milliseconds)) ms per step")
    }
  }

  /// f(x, y) = 2π²·sin(πx)·sin(πy), a constant of the loss.
  func source(_ x: Tensor<Double>, _ y: Tensor<Double>) -> Tensor<Double> {
    let values = zip(x.scalars, y.scalars).map {
      2 * Double.pi * Double.pi * sin(Double.pi * $0) * sin(Double.pi * $1)
    }
    return Tensor(values, shape: x.shape)
  }

  /// u and sin(πx)·sin(πy) on the grid, row by row (y outer, x inner).
  func evaluateOnGrid(_ network: PoissonNetwork) -> ([Double], [Double]) {
    let n = Self.grid
    let coordinates = (0..<n).map { Double($0) / Double(n - 1) }
    let xs = (0..<(n * n)).map { coordinates[$0 % n] }, ys = (0..<(n * n)).map { coordinates[$0 / n] }
    let solution = withoutGrad {
      network.solution(Tensor(xs, shape: [n * n, 1]), Tensor(ys, shape: [n * n, 1])).scalars
    }
    let exact = zip(xs, ys).map { sin(Double.pi * $0) * sin(Double.pi * $1) }
    return (solution, exact)
  }

  /// Two heat maps side by side: the learned u, and |u − u*|. Every other grid point (51×51 cells of
  /// 6 px), colours in 16 steps, and runs of one colour in a row drawn as one rectangle, which keeps
  /// the file small.
  func heatMaps(solution: [Double], exact: [Double]) -> String {
    let n = Self.grid, step = 2, cells = (n + 1) / 2, cell = 6, side = cells * cell, margin = 30
    let errors = zip(solution, exact).map { abs($0 - $1) }
    let largestError = max(errors.max() ?? 0, 1e-300)
    var out = SVGPlot.header(width: Double(2 * side + 3 * margin), height: Double(side + 2 * margin))
    for (panel, values, top, title) in [
      (0, solution, 1.0, "u(x, y), learned (0 to 1)"),
      (1, errors, largestError, "|u − sin(πx)·sin(πy)| (0 to \(String(format: "%.1e", largestError)))"),
    ] {
      let left = margin + panel * (side + margin)
      out += SVGPlot.text(
        title, x: Double(left + side / 2), y: Double(margin - 10), size: 13, anchor: "middle")
      for row in 0..<cells {
        let level = (0..<cells).map { column in
          Int((min(max(values[row * step * n + column * step] / top, 0), 1) * 15).rounded())
        }
        var start = 0
        while start < cells {
          var end = start + 1
          while end < cells && level[end] == level[start] { end += 1 }
          let y = margin + (cells - 1 - row) * cell
          out +=
            "<rect x=\"\(left + start * cell)\" y=\"\(y)\" width=\"\((end - start) * cell)\" height=\"\(cell)\" "
            + "fill=\"\(color(Double(level[start]) / 15))\"/>\n"
          start = end
        }
      }
    }
    return out + "</svg>\n"
  }

  /// A blue–white–red ramp for t in [0, 1].
  func color(_ t: Double) -> String {
    let (r, g, b) =
      t < 0.5
      ? (Int(255 * 2 * t), Int(255 * 2 * t), 255)
      : (255, Int(255 * 2 * (1 - t)), Int(255 * 2 * (1 - t)))
    return String(format: "#%02x%02x%02x", r, g, b)
  }
}

/// u(x, y) = x(1−x)·y(1−y)·N(x, y), with N an MLP 2-32-32-32-1 with tanh.
struct PoissonNetwork {
  let layers: [Linear<Double>]

  init<G: RandomNumberGenerator>(using generator: inout G) {
    let sizes = [2, 32, 32, 32, 1]
    layers = (0..<4).map { Linear<Double>(inputs: sizes[$0], outputs: sizes[$0 + 1], using: &generator) }
  }

  var parameters: [Tensor<Double>] { layers.flatMap { [$0.weight, $0.bias!] } }

  /// u at the points (x, y), each `[n, 1]`.
  func solution(_ x: Tensor<Double>, _ y: Tensor<Double>) -> Tensor<Double> {
    var h = Tensor.concatenated([x, y], axis: 1)
    for layer in layers.dropLast() { h = layer(h).tanh() }
    return x * (1 - x) * y * (1 - y) * layers.last!(h)
  }

  /// u_xx + u_yy at the points, with a graph: the first derivatives are taken with `createGraph`,
  /// then each is differentiated again along its own coordinate (the points are independent, so the
  /// gradient of Σ u_x is u_xx point by point).
  func laplacian(_ x: Tensor<Double>, _ y: Tensor<Double>) -> Tensor<Double> {
    let u = solution(x, y)
    let first = gradients(of: u.sum(), at: [x, y], createGraph: true)
    let uxx = gradients(of: first[0].sum(), at: [x], createGraph: true)[0]
    let uyy = gradients(of: first[1].sum(), at: [y], createGraph: true)[0]
    return uxx + uyy
  }
}
