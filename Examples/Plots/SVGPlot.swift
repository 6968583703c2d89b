import Foundation

/// Standalone SVG pictures for the examples: the training curves (loss on a log scale, accuracy on a
/// linear scale at the right) and the drawing elements the moons decision boundary is made of.
/// Shared by `moons`, `fashion-mnist` and `char-lm`, so every example draws its curve the same way.
public enum SVGPlot {
  /// One line of a plot.
  public struct Series {
    /// The name in the legend.
    public var label: String
    /// The points, in order of x.
    public var points: [(x: Double, y: Double)]
    /// An SVG colour.
    public var color: String
    /// Drawn dashed.
    public var dashed: Bool

    public init(label: String, points: [(x: Double, y: Double)], color: String, dashed: Bool = false) {
      self.label = label
      self.points = points
      self.color = color
      self.dashed = dashed
    }
  }

  /// The colours the examples use: loss red, a second loss blue, accuracy green.
  public static let lossColor = "#c0392b", secondLossColor = "#1f5f99", accuracyColor = "#2a7d4f"

  /// Loss series on a log scale (left axis) and an optional accuracy series in [0, 1] (right axis),
  /// over a shared x axis (steps or epochs), 560 × 300 pixels, with a legend when there is more than
  /// one series.
  public static func trainingCurves(
    title: String, xLabel: String, losses: [Series], accuracy: Series? = nil
  ) -> String {
    let (left, top, width, height) = (70.0, 40.0, 560.0, 300.0)
    let allPoints = (losses + (accuracy.map { [$0] } ?? [])).flatMap(\.points)
    let xMin = allPoints.map(\.x).min() ?? 0
    let xMax = max(allPoints.map(\.x).max() ?? 1, xMin + 1)
    let positive = losses.flatMap(\.points).map(\.y).filter { $0 > 0 && $0.isFinite }
    let lowDecade = (log10(positive.min() ?? 0.01)).rounded(.down)
    let highDecade = max((log10(positive.max() ?? 1)).rounded(.up), lowDecade + 1)
    func px(_ x: Double) -> Double { left + (x - xMin) / (xMax - xMin) * width }
    func pyLoss(_ loss: Double) -> Double {
      top + (highDecade - log10(max(loss, 1e-300))) / (highDecade - lowDecade) * height
    }
    func pyAccuracy(_ accuracy: Double) -> Double { top + (1 - accuracy) * height }

    var svg = header(width: left + width + 70, height: top + height + 50)
    svg += text(title, x: left + width / 2, y: 24, size: 15, anchor: "middle")
    // Horizontal grid at every decade, vertical at round x values.
    var decade = lowDecade
    while decade <= highDecade {
      let yLine = pyLoss(pow(10, decade))
      svg += line(x1: left, y1: yLine, x2: left + width, y2: yLine, stroke: "#ddd")
      svg += text(String(format: "%g", pow(10, decade)), x: left - 8, y: yLine + 4, size: 11, anchor: "end")
      decade += 1
    }
    let spacing = tickSpacing(xMax - xMin)
    var tick = (xMin / spacing).rounded(.up) * spacing
    while tick <= xMax + 1e-9 {
      svg += line(x1: px(tick), y1: top, x2: px(tick), y2: top + height, stroke: "#eee")
      svg += text(String(format: "%g", tick), x: px(tick), y: top + height + 16, size: 11, anchor: "middle")
      tick += spacing
    }
    if let accuracy {
      for value in stride(from: 0.0, through: 1.0, by: 0.25) {
        svg += text(
          String(format: "%.0f%%", value * 100), x: left + width + 8, y: pyAccuracy(value) + 4, size: 11,
          anchor: "start", fill: accuracy.color)
      }
      svg += polyline(
        accuracy.points.map { (px($0.x), pyAccuracy($0.y)) }, stroke: accuracy.color, dashed: accuracy.dashed)
      if accuracy.points.count <= 20 {  // a few points (one per epoch): mark each
        for point in accuracy.points {
          svg += "<circle cx=\"\(fmt(px(point.x)))\" cy=\"\(fmt(pyAccuracy(point.y)))\" r=\"3.5\" "
          svg += "fill=\"\(accuracy.color)\"/>\n"
          svg += text(
            String(format: "%.1f%%", point.y * 100), x: px(point.x) - 4, y: pyAccuracy(point.y) - 8, size: 11,
            anchor: "end", fill: accuracy.color)
        }
      }
      svg += text(
        accuracy.label, x: left + width + 52, y: top + height / 2, size: 12, anchor: "middle",
        fill: accuracy.color, rotate: true)
    }
    for series in losses {
      svg += polyline(
        series.points.map { (px($0.x), pyLoss($0.y)) }, stroke: series.color, dashed: series.dashed)
    }
    svg +=
      "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(width)\" height=\"\(height)\" fill=\"none\" stroke=\"#444\"/>\n"
    svg += text(xLabel, x: left + width / 2, y: top + height + 36, size: 12, anchor: "middle")
    svg += text(
      "loss (log scale)", x: left - 52, y: top + height / 2, size: 12, anchor: "middle",
      fill: losses.first?.color ?? "#222", rotate: true)
    if losses.count > 1 {
      for (i, series) in losses.enumerated() {
        let y = top + 16 + Double(i) * 16
        svg += line(
          x1: left + width - 150, y1: y - 4, x2: left + width - 126, y2: y - 4, stroke: series.color)
        svg += text(series.label, x: left + width - 120, y: y, size: 11, anchor: "start")
      }
    }
    return svg + "</svg>\n"
  }

  /// A round spacing (1, 2 or 5 × 10ᵏ) that puts at most about ten ticks on a range.
  static func tickSpacing(_ range: Double) -> Double {
    let raw = range / 10
    let magnitude = pow(10, log10(raw).rounded(.down))
    for factor in [1.0, 2, 5, 10] where factor * magnitude >= raw { return max(factor * magnitude, 1) }
    return max(10 * magnitude, 1)
  }

  // MARK: Elements

  /// The opening `<svg>` tag with a white background.
  public static func header(width: Double, height: Double) -> String {
    """
    <svg xmlns="http://www.w3.org/2000/svg" width="\(fmt(width))" height="\(fmt(height))" \
    viewBox="0 0 \(fmt(width)) \(fmt(height))" font-family="Helvetica, Arial, sans-serif">
    <rect width="100%" height="100%" fill="white"/>

    """
  }

  /// A filled rectangle.
  public static func rect(x: Double, y: Double, width: Double, height: Double, fill: String) -> String {
    "<rect x=\"\(fmt(x))\" y=\"\(fmt(y))\" width=\"\(fmt(width))\" height=\"\(fmt(height))\" fill=\"\(fill)\"/>\n"
  }

  /// A line segment.
  public static func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String) -> String {
    "<line x1=\"\(fmt(x1))\" y1=\"\(fmt(y1))\" x2=\"\(fmt(x2))\" y2=\"\(fmt(y2))\" stroke=\"\(stroke)\"/>\n"
  }

  /// A polyline 2 pixels wide, optionally dashed.
  public static func polyline(_ points: [(Double, Double)], stroke: String, dashed: Bool) -> String {
    let coordinates = points.map { "\(fmt($0.0)),\(fmt($0.1))" }.joined(separator: " ")
    let dash = dashed ? " stroke-dasharray=\"5 3\"" : ""
    return
      "<polyline points=\"\(coordinates)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"2\"\(dash)/>\n"
  }

  /// A text label, optionally rotated a quarter turn counterclockwise about its anchor.
  public static func text(
    _ string: String, x: Double, y: Double, size: Int, anchor: String, fill: String = "#222",
    rotate: Bool = false
  ) -> String {
    let transform = rotate ? " transform=\"rotate(-90 \(fmt(x)) \(fmt(y)))\"" : ""
    return "<text x=\"\(fmt(x))\" y=\"\(fmt(y))\" font-size=\"\(size)\" text-anchor=\"\(anchor)\" "
      + "fill=\"\(fill)\"\(transform)>\(string)</text>\n"
  }

  /// Two decimals, enough for pixels.
  public static func fmt(_ value: Double) -> String { String(format: "%.2f", value) }
}
