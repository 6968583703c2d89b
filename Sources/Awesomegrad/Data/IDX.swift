/// An array read from an IDX file, the format of MNIST and Fashion-MNIST.
///
/// Layout (big-endian): two zero bytes, a type code (0x08 = unsigned byte), the number of axes n,
/// n sizes as UInt32, then the elements in row-major order. So the magic number of a file of images
/// `[count, 28, 28]` is 0x00000803, of labels `[count]` 0x00000801. Only unsigned bytes, the type
/// every MNIST-style file uses, are supported.
public struct IDXArray: Sendable, Equatable {
  /// The sizes of the axes.
  public var shape: [Int]
  /// The elements in row-major order.
  public var bytes: [UInt8]

  /// An array of `shape` over `bytes` in row-major order.
  public init(shape: [Int], bytes: [UInt8]) {
    self.shape = shape
    self.bytes = bytes
  }

  /// Reads an IDX file, gzip-compressed (`.gz`) or not.
  ///
  /// - Parameters:
  ///   - path: the file.
  ///   - rank: if given, the number of axes the file must have (3 for images, 1 for labels); checked
  ///     through the magic number.
  ///   - hint: what to tell the user if the file is missing.
  ///   - maxDecompressedBytes: the cap on the decompressed size of a gzip file (default 1 GiB).
  public init(
    contentsOf path: String, rank: Int? = nil, hint: String = "Check the path.",
    maxDecompressedBytes: Int = 1 << 30
  ) throws(DataError) {
    try self.init(
      decoded: readFileBytes(path, hint: hint, maxDecompressedBytes: maxDecompressedBytes), path: path,
      rank: rank)
  }

  /// Parses the (decompressed) contents `data` of an IDX file; `path` names it in errors.
  init(decoded data: [UInt8], path: String, rank: Int?) throws(DataError) {
    guard data.count >= 4 else { throw .truncated(path: path, expectedBytes: 4, actualBytes: data.count) }
    let magic = UInt32(data[0]) << 24 | UInt32(data[1]) << 16 | UInt32(data[2]) << 8 | UInt32(data[3])
    let axes = Int(data[3])
    let expectedMagic = 0x0000_0800 | UInt32(rank ?? axes)
    guard magic == expectedMagic else {
      throw .wrongMagicNumber(path: path, expected: expectedMagic, found: magic)
    }
    let headerSize = 4 + 4 * axes
    guard data.count >= headerSize else {
      throw .truncated(path: path, expectedBytes: headerSize, actualBytes: data.count)
    }
    var shape: [Int] = []
    for axis in 0..<axes {
      let i = 4 + 4 * axis
      shape.append(Int(data[i]) << 24 | Int(data[i + 1]) << 16 | Int(data[i + 2]) << 8 | Int(data[i + 3]))
    }
    // The sizes come from the file: a damaged header can announce more bytes than an Int holds, which
    // must be reported, not trap. A size of 0 makes the product 0 whatever follows, so the test
    // multiplies the non-zero sizes: users multiply the trailing sizes (rows × columns) even when
    // there are no images, and that product must fit too.
    let tooLarge = DataError.inconsistent(
      path: path, reason: "the header's sizes \(shape) are too large; is this an IDX file?")
    var nonZeroProduct = 1
    for size in shape {
      let (product, overflow) = nonZeroProduct.multipliedReportingOverflow(by: max(size, 1))
      guard !overflow else { throw tooLarge }
      nonZeroProduct = product
    }
    var expectedSize = shape.contains(0) ? 0 : nonZeroProduct
    let (total, overflow) = expectedSize.addingReportingOverflow(headerSize)
    guard !overflow else { throw tooLarge }
    expectedSize = total
    guard data.count >= expectedSize else {
      throw .truncated(path: path, expectedBytes: expectedSize, actualBytes: data.count)
    }
    guard data.count == expectedSize else {
      throw .inconsistent(
        path: path,
        reason: "\(data.count - expectedSize) bytes follow the \(shape) array; is this an IDX file?")
    }
    self.init(shape: shape, bytes: Array(data[headerSize...]))
  }
}
