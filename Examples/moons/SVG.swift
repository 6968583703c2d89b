import ExamplePlots
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

    var svg = SVGPlot.header(width: left + width + 20, height: top + height + 40)
    svg += SVGPlot.text(title, x: left + width / 2, y: 24, size: 15, anchor: "middle")
    svg += "<g shape-rendering=\"crispEdges\">\n"
    for r in 0..<rows {
      var start = 0
      while start < columns {
        let positive = predictions[r * columns + start]
        var end = start + 1
        while end < columns && predictions[r * columns + end] == positive { end += 1 }
        svg += SVGPlot.rect(
          x: left + Double(start) * cell * scale, y: top + Double(r) * cell * scale,
          width: Double(end - start) * cell * scale, height: cell * scale,
          fill: positive ? positiveRegion : negativeRegion)
        start = end
      }
    }
    svg += "</g>\n"
    for (point, label) in zip(X, y) {
      svg += "<circle cx=\"\(SVGPlot.fmt(px(point[0])))\" cy=\"\(SVGPlot.fmt(py(point[1])))\" r=\"5\" "
      svg += "fill=\"\(label > 0 ? positivePoint : negativePoint)\" stroke=\"#222\" stroke-width=\"0.8\"/>\n"
    }
    svg +=
      "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(SVGPlot.fmt(width))\" height=\"\(SVGPlot.fmt(height))\" "
    svg += "fill=\"none\" stroke=\"#444\"/>\n"
    for tick in Int(xMin.rounded(.up))...Int(xMax.rounded(.down)) {
      svg += SVGPlot.text("\(tick)", x: px(Double(tick)), y: top + height + 16, size: 11, anchor: "middle")
    }
    for tick in Int(yMin.rounded(.up))...Int(yMax.rounded(.down)) {
      svg += SVGPlot.text("\(tick)", x: left - 8, y: py(Double(tick)) + 4, size: 11, anchor: "end")
    }
    svg += legend(x: left + 10, y: top + height + 32)
    return svg + "</svg>\n"
  }

  /// The loss per step on a log scale, with the accuracy on a linear scale at the right.
  static func lossCurve(trace: [(step: Int, loss: Double, accuracy: Double)], title: String) -> String {
    SVGPlot.trainingCurves(
      title: title, xLabel: "step",
      losses: [
        .init(label: "loss", points: trace.map { (Double($0.step), $0.loss) }, color: SVGPlot.lossColor)
      ],
      accuracy: .init(
        label: "accuracy", points: trace.map { (Double($0.step), $0.accuracy) }, color: SVGPlot.accuracyColor,
        dashed: true))
  }

  static func legend(x: Double, y: Double) -> String {
    var svg = ""
    for (i, (label, colour)) in [("y = −1", negativePoint), ("y = +1", positivePoint)].enumerated() {
      let cx = x + Double(i) * 90
      svg +=
        "<circle cx=\"\(SVGPlot.fmt(cx))\" cy=\"\(SVGPlot.fmt(y - 4))\" r=\"5\" fill=\"\(colour)\" stroke=\"#222\" stroke-width=\"0.8\"/>\n"
      svg += SVGPlot.text(label, x: cx + 10, y: y, size: 12, anchor: "start")
    }
    return svg
  }

}
