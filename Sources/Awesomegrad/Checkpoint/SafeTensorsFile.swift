#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// One tensor's entry in a safetensors header: its dtype, its shape and where its bytes are.
public struct SafeTensorsEntry: Sendable, Equatable {
  /// The element type.
  public let dtype: SafeTensorsDType
  /// The sizes of the axes; `[]` for a scalar.
  public let shape: [Int]
  /// The number of elements, the product of `shape` (1 for a scalar, 0 when a size is 0).
  public let count: Int
  /// `data_offsets`: the tensor's bytes, relative to the start of the data (just after the header).
  public let byteRange: Range<Int>
}

/// A safetensors file, validated: its metadata, its tensor entries, and its bytes, decoded on request.
///
/// The format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N,
/// N bytes of UTF-8 JSON — an object with an optional `"__metadata__": {string: string}` and, per
/// tensor, `{"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}` — then the data. The
/// offsets are relative to the data; sorted, they tile it exactly, with no gap and no overlap.
///
/// Opening checks everything the reference reader checks (see ``init(bytes:path:)``), so afterwards
/// every tensor can be decoded without further checks; decoding reads the elements in bulk.
public struct SafeTensorsFile: Sendable {
  /// The largest header the format allows, in bytes.
  public static let maximumHeaderLength = 100_000_000

  /// The file's path (or the name given to bytes read from memory), used in errors.
  public let path: String
  /// The `__metadata__` map; empty when the header has none.
  public let metadata: [String: String]
  /// The tensors, by name.
  public let entries: [String: SafeTensorsEntry]
  /// The header length N read from the first 8 bytes.
  public let headerLength: Int
  /// The whole file: read into memory, or mapped.
  private let bytes: FileBytes

  /// The tensor names, sorted.
  public var names: [String] { entries.keys.sorted() }
  /// The size of the data section, in bytes.
  public var dataLength: Int { bytes.count - 8 - headerLength }
  /// Whether the file is memory-mapped (``init(mappingContentsOf:)``) rather than read into memory.
  public var isMapped: Bool { bytes.isMapped }

  /// Reads and validates the safetensors file at `path` (read once, whole).
  public init(contentsOf path: String) throws(CheckpointError) {
    try self.init(bytes: readWholeFile(path), path: path)
  }

  /// Maps the safetensors file at `path` into memory (read-only, `mmap`) and validates it as
  /// ``init(bytes:path:)`` does, reading only the header.
  ///
  /// The tensors' bytes are read from the file when a tensor is decoded, and the pages a decoded
  /// tensor came from are given back to the system right after (`madvise(MADV_DONTNEED)`, in
  /// blocks of 16 MiB), so decoding every tensor once holds one copy of the weights (the decoded
  /// one), not two: loading a model stays near the size of its decoded weights. The file must not
  /// be truncated while it is mapped (a read past its new end stops the process, as with any mapping).
  public init(mappingContentsOf path: String) throws(CheckpointError) {
    let mapped = try mapWholeFile(path)
    self.path = path
    self.bytes = mapped
    (metadata, entries, headerLength) = try mapped.withUnsafeBytes {
      (file) throws(CheckpointError) -> ([String: String], [String: SafeTensorsEntry], Int) in
      try validate(file, path: path)
    }
  }

  /// Validates the safetensors file `bytes`, checking in this order and stopping at the first problem:
  ///
  /// 1. the header length: at least 8 bytes in the file (``CheckpointError/headerTooSmall(path:fileSize:)``),
  ///    N ≤ 100,000,000 (`headerTooLarge`), 8 + N ≤ file size (`headerPastEnd`);
  /// 2. the header: UTF-8 (`headerNotUTF8`), JSON (`headerNotJSON`), an object (`headerNotObject`);
  /// 3. each member in header order: `__metadata__` maps strings to strings (`invalidMetadata`); a
  ///    name appears once (`duplicateTensor`); the entry is an object with `dtype`, `shape` and
  ///    `data_offsets` of the right JSON types (`invalidEntry`); the dtype is known (`unknownDType`);
  ///    no dimension is negative (`negativeDimension`); the element count and byte size fit in an
  ///    `Int` (`shapeOverflow`; the product of the non-zero sizes must fit even when a size is 0,
  ///    so that strides computed later cannot overflow); begin ≤ end (`offsetsReversed`);
  ///    end − begin = count × dtype size (`sizeMismatch`);
  /// 4. the entries sorted by offsets tile the data from 0: each begins where the previous ended
  ///    (`offsetsGap`, `offsetsOverlap`);
  /// 5. the last end is the size of the data (`bytesMissing`, `bytesLeftOver`).
  ///
  /// Nothing is allocated from a size read from the file before it has been checked against the
  /// file's actual length.
  /// - Parameters:
  ///   - bytes: the whole file.
  ///   - path: the name to use in errors.
  public init(bytes: [UInt8], path: String = "<memory>") throws(CheckpointError) {
    self.path = path
    self.bytes = FileBytes(bytes)
    (metadata, entries, headerLength) = try bytes.withUnsafeBufferPointer {
      (file) throws(CheckpointError) -> ([String: String], [String: SafeTensorsEntry], Int) in
      try validate(file, path: path)
    }
  }

  /// The entry named `name`.
  public func entry(_ name: String) throws(CheckpointError) -> SafeTensorsEntry {
    guard let entry = entries[name] else { throw .tensorNotFound(path: path, tensor: name) }
    return entry
  }

  /// The raw little-endian bytes of the tensor named `name`, passed to `body`.
  func withBytes<R>(
    of entry: SafeTensorsEntry, _ body: (UnsafeRawBufferPointer) throws(CheckpointError) -> R
  ) throws(CheckpointError) -> R {
    let start = 8 + headerLength + entry.byteRange.lowerBound
    return try bytes.withUnsafeBytes { (all) throws(CheckpointError) -> R in
      try body(
        UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: all[start..<start + entry.byteRange.count])))
    }
  }

  /// Gives the pages of the file's bytes `range` (relative to the data section) back to the
  /// system when the file is mapped; nothing otherwise. Reading them again reads the file again.
  func releasePages(ofData range: Range<Int>) {
    bytes.releasePages(range.lowerBound + 8 + headerLength..<range.upperBound + 8 + headerLength)
  }

  /// Throws `sizeMismatch` unless the entry's bytes are its element count × the element size (what
  /// the validation in ``init(bytes:path:)`` established; the decoders rely on it).
  private func checkByteCount(of entry: SafeTensorsEntry, _ name: String) throws(CheckpointError) {
    let expected = entry.count.multipliedReportingOverflow(by: entry.dtype.byteCount)
    if expected.overflow || expected.partialValue != entry.byteRange.count {
      throw .sizeMismatch(
        path: path, tensor: name, dtype: entry.dtype.rawValue, shape: entry.shape,
        expectedBytes: expected.partialValue, actualBytes: entry.byteRange.count)
    }
  }

  /// The floating-point tensor `name` (F64, F32, F16 or BF16) as a `Storage<S>`.
  ///
  /// F16 and BF16 convert exactly to either type; F64 read as Float rounds to nearest.
  @_specialize(where S == Float)
  @_specialize(where S == Double)
  public func storage<S: TensorScalar>(_ name: String, as _: S.Type = S.self) throws(CheckpointError)
    -> Storage<S>
  {
    try storage(name, as: S.self, releaseBlockBytes: Self.releaseBlockBytes)
  }

  /// ``storage(_:as:)`` with the block a mapped file is decoded and released in (tests use small ones).
  @_specialize(where S == Float)
  @_specialize(where S == Double)
  func storage<S: TensorScalar>(
    _ name: String, as _: S.Type, releaseBlockBytes: Int
  ) throws(CheckpointError) -> Storage<S> {
    let entry = try entry(name)
    guard let encoding = FloatEncoding(entry.dtype) else {
      throw .wrongDType(path: path, tensor: name, dtype: entry.dtype.rawValue, wanted: "a float tensor")
    }
    // Validation made the byte range count × the element size, so the decoder fills the storage;
    // checked again here because a wrong size would write past it.
    try checkByteCount(of: entry, name)
    let storage = Storage<S>(uninitializedShape: entry.shape)
    guard bytes.isMapped else {
      try withBytes(of: entry) { raw in decodeFloats(raw, encoding, into: storage.buffer.base) }
      return storage
    }
    // A mapped file: decode in blocks, giving each block's pages back once it is decoded, so the
    // file's pages and the decoded tensor are never both resident in full.
    let size = encoding.byteCount
    let block = Swift.max(1, releaseBlockBytes / size)
    try withBytes(of: entry) { raw in
      var first = 0
      while first < entry.count {
        let n = Swift.min(block, entry.count - first)
        decodeFloats(
          UnsafeRawBufferPointer(rebasing: raw[(first * size)..<((first + n) * size)]), encoding,
          into: storage.buffer.base + first)
        let begin = entry.byteRange.lowerBound + first * size
        releasePages(ofData: begin..<(begin + n * size))
        first += n
      }
    }
    return storage
  }

  /// The block a mapped tensor is decoded and released in: 16 MiB.
  static let releaseBlockBytes = 16 << 20

  /// The floating-point tensor `name` as a leaf `Tensor<S>` (see ``storage(_:as:)``).
  public func tensor<S: TensorScalar>(
    _ name: String, as _: S.Type = S.self, requiresGrad: Bool = false
  ) throws(CheckpointError) -> Tensor<S> {
    Tensor(try storage(name, as: S.self), requiresGrad: requiresGrad)
  }

  /// The integer tensor `name` (I64, I32, I16, I8 or U8), its values sign-extended to `Int64`, row-major.
  public func integers(_ name: String) throws(CheckpointError) -> (shape: [Int], values: [Int64]) {
    let entry = try entry(name)
    guard let encoding = IntegerEncoding(entry.dtype) else {
      throw .wrongDType(path: path, tensor: name, dtype: entry.dtype.rawValue, wanted: "an integer tensor")
    }
    try checkByteCount(of: entry, name)
    return (entry.shape, try withBytes(of: entry) { decodeIntegers($0, encoding) })
  }

  /// The BOOL tensor `name`, row-major. Each byte must be 0 or 1 (``CheckpointError/invalidBool(path:tensor:index:byte:)``).
  public func bools(_ name: String) throws(CheckpointError) -> (shape: [Int], values: [Bool]) {
    let entry = try entry(name)
    guard entry.dtype == .BOOL else {
      throw .wrongDType(path: path, tensor: name, dtype: entry.dtype.rawValue, wanted: "BOOL")
    }
    let values = try withBytes(of: entry) { (raw) throws(CheckpointError) -> [Bool] in
      if let bad = raw.firstIndex(where: { $0 > 1 }) {
        throw .invalidBool(path: path, tensor: name, index: bad, byte: raw[bad])
      }
      return raw.map { $0 == 1 }
    }
    return (entry.shape, values)
  }

  /// Any tensor's values as `Double`s, row-major, for display and statistics: floats exactly (F64
  /// as is), integers rounded to the nearest Double above 2⁵³, BOOL as 0 and 1.
  public func doubles(_ name: String) throws(CheckpointError) -> (shape: [Int], values: [Double]) {
    let entry = try entry(name)
    if entry.dtype.isFloatingPoint { return (entry.shape, try storage(name, as: Double.self).scalars) }
    if entry.dtype.isInteger { return (entry.shape, try integers(name).values.map(Double.init)) }
    return (entry.shape, try bools(name).values.map { $0 ? 1 : 0 })
  }
}

// MARK: - Validation

/// Steps 1–5 of ``SafeTensorsFile/init(bytes:path:)``.
private func validate(
  _ file: UnsafeBufferPointer<UInt8>, path: String
) throws(CheckpointError) -> ([String: String], [String: SafeTensorsEntry], Int) {
  // 1. The header length.
  guard file.count >= 8 else { throw .headerTooSmall(path: path, fileSize: file.count) }
  var length: UInt64 = 0
  for i in 0..<8 { length |= UInt64(file[i]) << (8 * UInt64(i)) }
  guard length <= UInt64(SafeTensorsFile.maximumHeaderLength) else {
    throw .headerTooLarge(path: path, length: length)
  }
  let headerLength = Int(length)
  guard headerLength <= file.count - 8 else {
    throw .headerPastEnd(path: path, length: length, fileSize: file.count)
  }

  // 2. The header: UTF-8, JSON, an object.
  let header = UnsafeBufferPointer(rebasing: file[8..<8 + headerLength])
  guard String(validating: header, as: UTF8.self) != nil else { throw .headerNotUTF8(path: path) }
  let json: HeaderJSON
  do {
    json = try HeaderJSON.parse(header)
  } catch {
    throw .headerNotJSON(path: path, reason: error.description)
  }
  guard case .object(let members) = json else { throw .headerNotObject(path: path, found: json.kind) }

  // 3. Each member on its own.
  var metadata: [String: String]? = nil
  var entries: [String: SafeTensorsEntry] = [:]
  for (name, value) in members {
    if name == "__metadata__" {
      guard metadata == nil else { throw .invalidMetadata(path: path, reason: "it appears twice") }
      metadata = try parseMetadata(value, path: path)
      continue
    }
    guard entries[name] == nil else { throw .duplicateTensor(path: path, tensor: name) }
    entries[name] = try parseEntry(value, name: name, path: path)
  }

  // 4. Sorted by offsets (then by name, so that ties are reported the same way every time), the
  // entries must tile the data: each begins where the previous one ended.
  let sorted = entries.sorted {
    ($0.value.byteRange.lowerBound, $0.value.byteRange.upperBound, $0.key)
      < ($1.value.byteRange.lowerBound, $1.value.byteRange.upperBound, $1.key)
  }
  var end = 0
  var previous = ""
  for (name, entry) in sorted {
    if entry.byteRange.lowerBound > end {
      throw .offsetsGap(path: path, tensor: name, begin: entry.byteRange.lowerBound, previousEnd: end)
    }
    if entry.byteRange.lowerBound < end {
      throw .offsetsOverlap(
        path: path, tensor: name, other: previous, begin: entry.byteRange.lowerBound, previousEnd: end)
    }
    end = entry.byteRange.upperBound
    previous = name
  }

  // 5. The data is exactly as long as the tensors need.
  let dataLength = file.count - 8 - headerLength
  if end > dataLength { throw .bytesMissing(path: path, expected: end, actual: dataLength) }
  if end < dataLength { throw .bytesLeftOver(path: path, count: dataLength - end) }
  return (metadata ?? [:], entries, headerLength)
}

/// `__metadata__`: an object of strings (null counts as absent, as in the reference reader).
private func parseMetadata(_ value: HeaderJSON, path: String) throws(CheckpointError) -> [String: String] {
  if case .null = value { return [:] }
  guard case .object(let members) = value else {
    throw .invalidMetadata(path: path, reason: "it is a \(value.kind), not an object")
  }
  var metadata: [String: String] = [:]
  for (key, value) in members {
    guard case .string(let text) = value else {
      throw .invalidMetadata(
        path: path, reason: "the value of \(quoted(key)) is a \(value.kind), not a string")
    }
    guard metadata[key] == nil else {
      throw .invalidMetadata(path: path, reason: "\(quoted(key)) appears twice")
    }
    metadata[key] = text
  }
  return metadata
}

/// One tensor's entry: `{"dtype": String, "shape": [Int], "data_offsets": [Int, Int]}`; other fields
/// are ignored, as the reference reader ignores them.
private func parseEntry(_ value: HeaderJSON, name: String, path: String) throws(CheckpointError)
  -> SafeTensorsEntry
{
  func invalid(_ reason: String) -> CheckpointError {
    .invalidEntry(path: path, tensor: name, reason: reason)
  }
  guard case .object(let members) = value else {
    throw invalid("the entry is a \(value.kind), not an object")
  }
  var fields: [String: HeaderJSON] = [:]
  for (key, value) in members where ["dtype", "shape", "data_offsets"].contains(key) {
    guard fields[key] == nil else { throw invalid("the field \(key) appears twice") }
    fields[key] = value
  }

  // dtype
  guard let dtypeValue = fields["dtype"] else { throw invalid("the entry has no dtype") }
  guard case .string(let dtypeName) = dtypeValue else {
    throw invalid("dtype is a \(dtypeValue.kind), not a string")
  }
  guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
    throw .unknownDType(path: path, tensor: name, dtype: dtypeName)
  }

  // shape
  guard let shapeValue = fields["shape"] else { throw invalid("the entry has no shape") }
  guard case .array(let dimensions) = shapeValue else {
    throw invalid("shape is a \(shapeValue.kind), not an array")
  }
  var shape: [Int] = []
  shape.reserveCapacity(dimensions.count)  // bounded by the header's length, which was checked
  var tooLarge = false
  for (axis, dimension) in dimensions.enumerated() {
    guard case .number(let text) = dimension else {
      throw invalid("shape[\(axis)] is a \(dimension.kind), not an integer")
    }
    switch JSONInteger(text: text) {
    case .value(let size): shape.append(size)
    case .negative: throw .negativeDimension(path: path, tensor: name, dimension: text)
    case .notInteger: throw invalid("shape[\(axis)] = \(text) is not an integer")
    case .tooLarge:
      tooLarge = true
      shape.append(0)
    }
  }
  let shapeText =
    "[" + dimensions.map { if case .number(let t) = $0 { t } else { "?" } }.joined(separator: ", ") + "]"
  // The element count must fit, and so must the product of the non-zero sizes (a zero size makes the
  // count 0, but strides are products of the sizes after an axis and must not overflow either).
  var nonZeroProduct = 1
  for size in shape {
    let (product, overflow) = nonZeroProduct.multipliedReportingOverflow(by: max(size, 1))
    if overflow { tooLarge = true }
    nonZeroProduct = product
  }
  let (_, overflow) = nonZeroProduct.multipliedReportingOverflow(by: dtype.byteCount)
  guard !tooLarge, !overflow else { throw .shapeOverflow(path: path, tensor: name, shape: shapeText) }
  let count = shape.contains(0) ? 0 : nonZeroProduct
  let expectedBytes = count * dtype.byteCount

  // data_offsets
  guard let offsetsValue = fields["data_offsets"] else { throw invalid("the entry has no data_offsets") }
  guard case .array(let offsets) = offsetsValue, offsets.count == 2 else {
    throw invalid("data_offsets is not an array of two integers")
  }
  var bounds: [Int] = []
  for (i, offset) in offsets.enumerated() {
    guard case .number(let text) = offset else {
      throw invalid("data_offsets[\(i)] is a \(offset.kind), not an integer")
    }
    switch JSONInteger(text: text) {
    case .value(let value): bounds.append(value)
    case .negative: throw invalid("data_offsets[\(i)] = \(text) is negative")
    case .notInteger: throw invalid("data_offsets[\(i)] = \(text) is not an integer")
    case .tooLarge: throw invalid("data_offsets[\(i)] = \(text) is larger than any file")
    }
  }
  let (begin, end) = (bounds[0], bounds[1])
  guard begin <= end else { throw .offsetsReversed(path: path, tensor: name, begin: begin, end: end) }
  guard end - begin == expectedBytes else {
    throw .sizeMismatch(
      path: path, tensor: name, dtype: dtype.rawValue, shape: shape, expectedBytes: expectedBytes,
      actualBytes: end - begin)
  }
  return SafeTensorsEntry(dtype: dtype, shape: shape, count: count, byteRange: begin..<end)
}

// MARK: - Reading a file

/// The whole file at `path`, read once: its size from `fstat`, then `read` until the end.
func readWholeFile(_ path: String) throws(CheckpointError) -> [UInt8] {
  let fd = open(path, O_RDONLY)
  guard fd >= 0 else { throw .unreadable(path: path, reason: systemError()) }
  defer { close(fd) }
  var info = stat()
  guard fstat(fd, &info) == 0 else { throw .unreadable(path: path, reason: systemError()) }
  guard (info.st_mode & S_IFMT) == S_IFREG else {
    throw .unreadable(path: path, reason: "not a regular file")
  }
  let size = Int(info.st_size)
  var failure: String? = nil
  let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
    while initialized < size {
      let n = read(fd, buffer.baseAddress! + initialized, size - initialized)
      if n < 0 && errno == EINTR { continue }
      if n < 0 { failure = systemError() }
      if n <= 0 { break }  // the file shrank while we read it: keep what is there
      initialized += n
    }
  }
  if let failure { throw .unreadable(path: path, reason: failure) }
  return bytes
}

/// The file at `path` mapped read-only into memory (an empty file is read as no bytes: `mmap`
/// cannot map 0 bytes).
func mapWholeFile(_ path: String) throws(CheckpointError) -> FileBytes {
  let fd = open(path, O_RDONLY)
  guard fd >= 0 else { throw .unreadable(path: path, reason: systemError()) }
  defer { close(fd) }
  var info = stat()
  guard fstat(fd, &info) == 0 else { throw .unreadable(path: path, reason: systemError()) }
  guard (info.st_mode & S_IFMT) == S_IFREG else {
    throw .unreadable(path: path, reason: "not a regular file")
  }
  let size = Int(info.st_size)
  if size == 0 { return FileBytes([]) }
  guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), address != MAP_FAILED else {
    throw .unreadable(path: path, reason: "mmap: " + systemError())
  }
  return FileBytes(mapping: UnsafeRawPointer(address), count: size)
}

/// A file's bytes: an array read into memory, or a read-only mapping that is unmapped when the last
/// ``SafeTensorsFile`` holding it goes. Immutable once made, so it can be shared across tasks.
final class FileBytes: @unchecked Sendable {
  private let array: [UInt8]
  private let mapping: UnsafeRawPointer?
  /// The number of bytes.
  let count: Int

  init(_ array: [UInt8]) {
    self.array = array
    mapping = nil
    count = array.count
  }

  init(mapping: UnsafeRawPointer, count: Int) {
    array = []
    self.mapping = mapping
    self.count = count
  }

  deinit {
    if let mapping { munmap(UnsafeMutableRawPointer(mutating: mapping), count) }
  }

  var isMapped: Bool { mapping != nil }

  /// Calls `body` with all the bytes.
  func withUnsafeBytes<R>(
    _ body: (UnsafeBufferPointer<UInt8>) throws(CheckpointError) -> R
  ) throws(CheckpointError) -> R {
    if let mapping {
      return try body(UnsafeBufferPointer(start: mapping.assumingMemoryBound(to: UInt8.self), count: count))
    }
    return try array.withUnsafeBufferPointer { (all) throws(CheckpointError) -> R in try body(all) }
  }

  /// `madvise(MADV_DONTNEED)` over the whole pages inside `range` of a mapping: they leave the
  /// process's resident memory and are read from the file again if touched. A private read-only
  /// mapping has nothing to lose.
  func releasePages(_ range: Range<Int>) {
    guard let mapping else { return }
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let start = (range.lowerBound + page - 1) / page * page
    let end = range.upperBound / page * page
    if end > start { madvise(UnsafeMutableRawPointer(mutating: mapping + start), end - start, MADV_DONTNEED) }
  }
}

/// The message of the current `errno`.
func systemError() -> String { String(cString: strerror(errno)) }
