import Awesomegrad
import Foundation

/// MNIST-style image classification data (MNIST, Fashion-MNIST): 28×28 grey images and labels 0…9,
/// read from the four IDX files of the standard distribution.
public struct MNISTSplit: Sendable {
  /// Pixels 0…255, one image after another: `count × rows × columns` bytes.
  public var pixels: [UInt8]
  /// The class of each image.
  public var labels: [Int]
  /// The image height in pixels (28).
  public var rows: Int
  /// The image width in pixels (28).
  public var columns: Int

  /// The number of images.
  public var count: Int { labels.count }
  /// Pixels per image.
  public var featureCount: Int { rows * columns }

  /// Reads `images` (IDX `[count, rows, columns]`) and `labels` (IDX `[count]`), gzip-compressed or not.
  public init(images: String, labels: String, hint: String = "Check the path.") throws(DataError) {
    let imageArray = try IDXArray(contentsOf: images, rank: 3, hint: hint)
    let labelArray = try IDXArray(contentsOf: labels, rank: 1, hint: hint)
    guard imageArray.shape[0] == labelArray.shape[0] else {
      throw .inconsistent(
        path: labels, reason: "\(labelArray.shape[0]) labels for \(imageArray.shape[0]) images in \(images)")
    }
    pixels = imageArray.bytes
    self.labels = labelArray.bytes.map(Int.init)
    rows = imageArray.shape[1]
    columns = imageArray.shape[2]
  }

  /// The images `indices` as a `[indices.count, rows·columns]` tensor, each pixel scaled to [0, 1]
  /// and then standardised as (x − mean) / standardDeviation (the defaults leave it in [0, 1]).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func batch<Scalar: TensorScalar>(
    _ indices: [Int], mean: Scalar = 0, standardDeviation: Scalar = 1, as _: Scalar.Type = Scalar.self,
    file: StaticString = #fileID, line: UInt = #line
  ) -> Tensor<Scalar> {
    // Every index is checked before anything is read: the gather below has no bounds checks.
    for (row, index) in indices.enumerated() where index < 0 || index >= count {
      datasetArgumentFailure(
        "MNISTSplit.batch", "index \(index) at position \(row) is outside 0..<\(count)", file: file,
        line: line)
    }
    let width = featureCount
    // One lookup table for the 256 pixel values, so the gather is a copy through a table.
    let table = (0..<256).map { (Scalar($0) / 255 - mean) / standardDeviation }
    let storage = Storage<Scalar>(uninitializedShape: [indices.count, width])
    pixels.withUnsafeBufferPointer { pixels in
      table.withUnsafeBufferPointer { table in
        indices.withUnsafeBufferPointer { rows in
          // The core's kernel: on the thread pool, specialised for Float and Double.
          CPU.gatherRows(
            pixels.baseAddress!, rows: rows, width: width, through: table.baseAddress!, into: storage.baseAddress)
        }
      }
    }
    return Tensor(storage)
  }
}

/// The training and test splits of an MNIST-style data set in one directory, under the standard file
/// names `train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz`, `t10k-images-idx3-ubyte.gz`,
/// `t10k-labels-idx1-ubyte.gz` (each also found without `.gz`).
public struct MNISTDataset: Sendable {
  /// The 60,000 training images.
  public var train: MNISTSplit
  /// The 10,000 test images.
  public var test: MNISTSplit

  /// Reads the four IDX files (`train-images-idx3-ubyte.gz`, …) from `directory`.
  ///
  /// - Parameters:
  ///   - directory: the folder holding the files, gzip'd or not.
  ///   - hint: what to tell the user when a file is missing (how to install the data).
  public init(directory: String, hint: String = "Check the directory.") throws(DataError) {
    func file(_ name: String) -> String {
      let plain = directory + "/" + name
      let gzipped = plain + ".gz"
      return FileManager.default.fileExists(atPath: gzipped) || !FileManager.default.fileExists(atPath: plain) ? gzipped : plain
    }
    train = try MNISTSplit(
      images: file("train-images-idx3-ubyte"), labels: file("train-labels-idx1-ubyte"), hint: hint)
    test = try MNISTSplit(
      images: file("t10k-images-idx3-ubyte"), labels: file("t10k-labels-idx1-ubyte"), hint: hint)
  }
}
