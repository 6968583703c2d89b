import AwesomegradDatasets
import Foundation
import Testing

@testable import Awesomegrad

@Suite struct DataTests {
  /// Without noise, label-0 points lie on the unit circle (upper half) and label-1 points on the circle
  /// of radius 1 centred at (1, 0.5) (lower half); 101 points split 50 / 51.
  @Test func moonsGeometry() {
    var rng = SeededGenerator(seed: 0)
    let (x, labels) = moons(n: 101, as: Double.self, using: &rng)
    #expect(x.shape == [101, 2])
    #expect(labels.filter { $0 == 0 }.count == 50 && labels.filter { $0 == 1 }.count == 51)
    let v = x.scalars
    for (i, label) in labels.enumerated() {
      let (px, py) = (v[2 * i], v[2 * i + 1])
      if label == 0 {
        #expect(abs(px * px + py * py - 1) < 1e-12 && py >= -1e-12)
      } else {
        #expect(abs((px - 1) * (px - 1) + (py - 0.5) * (py - 0.5) - 1) < 1e-12 && py <= 0.5 + 1e-12)
      }
    }
    #expect(labels != labels.sorted())  // shuffled
  }

  /// Noise moves points off the circles by about `noise`; the same seed gives the same data.
  @Test func moonsNoiseAndSeed() {
    var a = SeededGenerator(seed: 5), b = SeededGenerator(seed: 5)
    let (x1, y1) = moons(n: 200, noise: 0.1, as: Float.self, using: &a)
    let (x2, y2) = moons(n: 200, noise: 0.1, as: Float.self, using: &b)
    #expect(x1.scalars == x2.scalars && y1 == y2)
    let v = x1.scalars.map(Double.init)
    var squaredDistance = 0.0
    for (i, label) in y1.enumerated() {
      let (cx, cy) = label == 0 ? (0.0, 0.0) : (1.0, 0.5)
      let r = ((v[2 * i] - cx) * (v[2 * i] - cx) + (v[2 * i + 1] - cy) * (v[2 * i + 1] - cy)).squareRoot()
      squaredDistance += (r - 1) * (r - 1)
    }
    let rms = (squaredDistance / 200).squareRoot()
    #expect(rms > 0.04 && rms < 0.2)
  }
}
