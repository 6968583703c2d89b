import Foundation

/// Standalone SVG pictures of a trained model: its decision regions with the data on top (as in
/// micrograd's demo notebook), and the loss curve.
enum SVG {
  static let negativeRegion = "#f6c6b8", positiveRegion = "#c2d8ea"
  static let negativePoint = "#c0392b", positivePoint = "#1f5f99"

  /// The plane around the data coloured by the sign of `scores`, with the points coloured by label.
  ///
  /// The grid extends one unit beyond the data on every side (as in the notebook), 560 pixels wide,
  /// with square cells of `cellPixels` pixels; runs of equal prediction in a row are merged into one
  /// rectangle. Cells are a whole number of pixels so that neighbouring rectangles leave no seams.
  static func decisionBoundary(
    X: [[Double]], y: [Double], title: String, cellPixels: Int = 3, scores: ([[Double]]) -> [Double]
  ) -> String {
    let xMin = X.map { $0[0] }.min()! - 1, xMax = X.map { $0[0] }.max()! + 1
    let yMin = X.map { $0[1] }.min()! - 1, yMax = X.map { $0[1] }.max()! + 1
    let columns = 560 / cellPixels
    let scale = Double(columns * cellPixels) / (xMax - xMin)
    let cell = Double(cellPixels) / scale
    let rows = Int(((yMax - yMin) / cell).rounded(.up))
    let (left, top) = (50.0, 40.0)
    let width = Double(columns) * cell * scale, height = Double(rows) * cell * scale
    func px(_ x: Double) -> Double { left + (x - xMin) * scale }
    func py(_ y: Double) -> Double { top + (yMax - y) * scale }

    // Grid cell centres, row by row from the top.
    var centres: [[Double]] = []
    centres.reserveCapacity(rows * columns)
    for r in 0..<rows {
      for c in 0..<columns {
        centres.append([xMin + (Double(c) + 0.5) * cell, yMax - (Double(r) + 0.5) * cell])
      }
    }
    let predictions = scores(centres).map { $0 > 0 }

    var svg = header(width: left + width + 20, height: top + height + 40)
    svg += text(title, x: left + width / 2, y: 24, size: 15, anchor: "middle")
    svg += "<g shape-rendering=\"crispEdges\">\n"
    for r in 0..<rows {
      var start = 0
      while start < columns {
        let positive = predictions[r * columns + start]
        var end = start + 1
        while end < columns && predictions[r * columns + end] == positive { end += 1 }
        svg += rect(
          x: left + Double(start) * cell * scale, y: top + Double(r) * cell * scale,
          width: Double(end - start) * cell * scale, height: cell * scale,
          fill: positive ? positiveRegion : negativeRegion)
        start = end
      }
    }
    svg += "</g>\n"
    for (point, label) in zip(X, y) {
      svg += "<circle cx=\"\(fmt(px(point[0])))\" cy=\"\(fmt(py(point[1])))\" r=\"5\" "
      svg += "fill=\"\(label > 0 ? positivePoint : negativePoint)\" stroke=\"#222\" stroke-width=\"0.8\"/>\n"
    }
    svg += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(fmt(width))\" height=\"\(fmt(height))\" "
    svg += "fill=\"none\" stroke=\"#444\"/>\n"
    for tick in Int(xMin.rounded(.up))...Int(xMax.rounded(.down)) {
      svg += text("\(tick)", x: px(Double(tick)), y: top + height + 16, size: 11, anchor: "middle")
    }
    for tick in Int(yMin.rounded(.up))...Int(yMax.rounded(.down)) {
      svg += text("\(tick)", x: left - 8, y: py(Double(tick)) + 4, size: 11, anchor: "end")
    }
    svg += legend(x: left + 10, y: top + height + 32)
    return svg + "</svg>\n"
  }

  /// The loss per step on a log scale, with the accuracy on a linear scale at the right.
  static func lossCurve(trace: [(step: Int, loss: Double, accuracy: Double)], title: String) -> String {
    let (left, top, width, height) = (70.0, 40.0, 560.0, 300.0)
    let steps = max(trace.count - 1, 1)
    let losses = trace.map(\.loss).filter { $0 > 0 }
    let lowDecade = (log10(losses.min() ?? 0.01)).rounded(.down)
    let highDecade = max((log10(losses.max() ?? 1)).rounded(.up), lowDecade + 1)
    func px(_ step: Double) -> Double { left + step / Double(steps) * width }
    func pyLoss(_ loss: Double) -> Double {
      top + (highDecade - log10(max(loss, 1e-300))) / (highDecade - lowDecade) * height
    }
    func pyAccuracy(_ accuracy: Double) -> Double { top + (1 - accuracy) * height }

    var svg = header(width: left + width + 70, height: top + height + 50)
    svg += text(title, x: left + width / 2, y: 24, size: 15, anchor: "middle")
    // Horizontal grid at every decade, vertical every 10 steps.
    var decade = lowDecade
    while decade <= highDecade {
      let yLine = pyLoss(pow(10, decade))
      svg += line(x1: left, y1: yLine, x2: left + width, y2: yLine, stroke: "#ddd")
      svg += text(String(format: "%g", pow(10, decade)), x: left - 8, y: yLine + 4, size: 11, anchor: "end")
      decade += 1
    }
    for step in stride(from: 0, through: steps, by: 10) {
      svg += line(x1: px(Double(step)), y1: top, x2: px(Double(step)), y2: top + height, stroke: "#eee")
      svg += text("\(step)", x: px(Double(step)), y: top + height + 16, size: 11, anchor: "middle")
    }
    for accuracy in stride(from: 0.0, through: 1.0, by: 0.25) {
      svg += text(
        String(format: "%.0f%%", accuracy * 100), x: left + width + 8, y: pyAccuracy(accuracy) + 4, size: 11,
        anchor: "start", fill: "#2a7d4f")
    }
    svg += polyline(
      trace.map { (px(Double($0.step)), pyAccuracy($0.accuracy)) }, stroke: "#2a7d4f", dashed: true)
    svg += polyline(trace.map { (px(Double($0.step)), pyLoss($0.loss)) }, stroke: "#c0392b", dashed: false)
    svg +=
      "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(width)\" height=\"\(height)\" fill=\"none\" stroke=\"#444\"/>\n"
    svg += text("step", x: left + width / 2, y: top + height + 36, size: 12, anchor: "middle")
    svg += text(
      "loss (log scale)", x: left - 52, y: top + height / 2, size: 12, anchor: "middle", fill: "#c0392b",
      rotate: true)
    svg += text(
      "accuracy", x: left + width + 52, y: top + height / 2, size: 12, anchor: "middle", fill: "#2a7d4f",
      rotate: true)
    return svg + "</svg>\n"
  }

  // MARK: Elements

  static func header(width: Double, height: Double) -> String {
    """
    <svg xmlns="http://www.w3.org/2000/svg" width="\(fmt(width))" height="\(fmt(height))" \
    viewBox="0 0 \(fmt(width)) \(fmt(height))" font-family="Helvetica, Arial, sans-serif">
    <rect width="100%" height="100%" fill="white"/>

    """
  }

  static func legend(x: Double, y: Double) -> String {
    var svg = ""
    for (i, (label, colour)) in [("y = −1", negativePoint), ("y = +1", positivePoint)].enumerated() {
      let cx = x + Double(i) * 90
      svg +=
        "<circle cx=\"\(fmt(cx))\" cy=\"\(fmt(y - 4))\" r=\"5\" fill=\"\(colour)\" stroke=\"#222\" stroke-width=\"0.8\"/>\n"
      svg += text(label, x: cx + 10, y: y, size: 12, anchor: "start")
    }
    return svg
  }

  static func rect(x: Double, y: Double, width: Double, height: Double, fill: String) -> String {
    "<rect x=\"\(fmt(x))\" y=\"\(fmt(y))\" width=\"\(fmt(width))\" height=\"\(fmt(height))\" fill=\"\(fill)\"/>\n"
  }

  static func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String) -> String {
    "<line x1=\"\(fmt(x1))\" y1=\"\(fmt(y1))\" x2=\"\(fmt(x2))\" y2=\"\(fmt(y2))\" stroke=\"\(stroke)\"/>\n"
  }

  static func polyline(_ points: [(Double, Double)], stroke: String, dashed: Bool) -> String {
    let coordinates = points.map { "\(fmt($0.0)),\(fmt($0.1))" }.joined(separator: " ")
    let dash = dashed ? " stroke-dasharray=\"5 3\"" : ""
    return
      "<polyline points=\"\(coordinates)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"2\"\(dash)/>\n"
  }

  static func text(
    _ string: String, x: Double, y: Double, size: Int, anchor: String, fill: String = "#222",
    rotate: Bool = false
  ) -> String {
    let transform = rotate ? " transform=\"rotate(-90 \(fmt(x)) \(fmt(y)))\"" : ""
    return "<text x=\"\(fmt(x))\" y=\"\(fmt(y))\" font-size=\"\(size)\" text-anchor=\"\(anchor)\" "
      + "fill=\"\(fill)\"\(transform)>\(string)</text>\n"
  }

  /// Two decimals, enough for pixels.
  static func fmt(_ value: Double) -> String { String(format: "%.2f", value) }
}
