#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// One tensor to write to a safetensors file: `Float` as F32, `Double` as F64, `Int64` as I64,
/// `Bool` as BOOL. It refers to the values; nothing is copied until the file is written.
public struct SafeTensorsWritable {
  enum Payload {
    case float32(Storage<Float>)
    case float64(Storage<Double>)
    case int64([Int64])
    case bool([Bool])
  }

  let payload: Payload
  /// The sizes of the axes.
  public let shape: [Int]

  /// The dtype the values are written as.
  public var dtype: SafeTensorsDType {
    switch payload {
    case .float32: .F32
    case .float64: .F64
    case .int64: .I64
    case .bool: .BOOL
    }
  }

  /// The number of elements.
  var count: Int {
    switch payload {
    case .float32(let s): s.count
    case .float64(let s): s.count
    case .int64(let v): v.count
    case .bool(let v): v.count
    }
  }

  /// The values of `storage`: F32 for `Float`, F64 for `Double`.
  public init<S: TensorScalar>(_ storage: Storage<S>) {
    shape = storage.shape
    if let floats = storage as? Storage<Float> {
      payload = .float32(floats)
    } else if let doubles = storage as? Storage<Double> {
      payload = .float64(doubles)
    } else {
      payload = .float64(Storage(storage.scalars.map { Double($0) }, shape: storage.shape))
    }
  }

  /// The values of `tensor` (not its gradient): F32 for `Float`, F64 for `Double`.
  public init<S: TensorScalar>(_ tensor: Tensor<S>) { self.init(tensor.storage) }

  /// `values`, row-major, written as I64 with `shape` (`[]` for a scalar such as a step count).
  ///
  /// Stops with a message naming the counts and the caller's line (in release builds too) unless the
  /// values fill `shape` exactly.
  public init(int64 values: [Int64], shape: [Int], file: StaticString = #fileID, line: UInt = #line) {
    Self.checkFills(values.count, shape, "SafeTensorsWritable(int64:shape:)", file: file, line: line)
    self.shape = shape
    payload = .int64(values)
  }

  /// `values`, row-major, written as BOOL (one byte each, 0 or 1) with `shape`.
  ///
  /// Stops with a message naming the counts and the caller's line unless the values fill `shape`.
  public init(bools values: [Bool], shape: [Int], file: StaticString = #fileID, line: UInt = #line) {
    Self.checkFills(values.count, shape, "SafeTensorsWritable(bools:shape:)", file: file, line: line)
    self.shape = shape
    payload = .bool(values)
  }

  /// Stops unless `count` values fill `shape`: every size ≥ 0 and their product (without overflow)
  /// equal to `count`.
  private static func checkFills(
    _ count: Int, _ shape: [Int], _ function: String, file: StaticString, line: UInt
  ) {
    var product = 1, overflow = false
    for size in shape where !overflow {
      if size < 0 { argumentFailure(function, "shape \(shape) has a negative size", file: file, line: line) }
      (product, overflow) = product.multipliedReportingOverflow(by: size)
    }
    if overflow || product != count {
      argumentFailure(function, "\(count) values do not fill shape \(shape)", file: file, line: line)
    }
  }

  /// Calls `body` with the values as little-endian bytes (directly from memory on little-endian
  /// machines).
  func withLittleEndianBytes<R>(_ body: (UnsafeRawBufferPointer) throws(CheckpointError) -> R)
    throws(CheckpointError) -> R
  {
    switch payload {
    case .float32(let storage):
      #if _endian(little)
        return try body(UnsafeRawBufferPointer(start: storage.buffer.base, count: storage.count * 4))
      #else
        return try [UInt32](storage.scalars.map { $0.bitPattern.littleEndian }).withUnsafeBytes(body)
      #endif
    case .float64(let storage):
      #if _endian(little)
        return try body(UnsafeRawBufferPointer(start: storage.buffer.base, count: storage.count * 8))
      #else
        return try [UInt64](storage.scalars.map { $0.bitPattern.littleEndian }).withUnsafeBytes(body)
      #endif
    case .int64(let values):
      let littleEndian = values.map(\.littleEndian)
      return try littleEndian.withUnsafeBufferPointer { (buffer) throws(CheckpointError) -> R in
        try body(UnsafeRawBufferPointer(buffer))
      }
    case .bool(let values):
      let bytes = values.map { $0 ? UInt8(1) : 0 }
      return try bytes.withUnsafeBufferPointer { (buffer) throws(CheckpointError) -> R in
        try body(UnsafeRawBufferPointer(buffer))
      }
    }
  }
}

/// The header of a safetensors file holding `tensors` and `metadata`, and the order of the data.
///
/// Data order is the reference writer's: widest dtype first, then by name, so every tensor starts
/// at a multiple of its element size (the header is padded with spaces to a multiple of 8). The
/// header lists `__metadata__` (when not empty) and then the tensors by name.
func safeTensorsHeader(
  _ tensors: [String: SafeTensorsWritable], metadata: [String: String], path: String
) throws(CheckpointError) -> (header: [UInt8], order: [String]) {
  if tensors["__metadata__"] != nil {
    throw .unwritable(path: path, reason: "\"__metadata__\" is reserved and cannot name a tensor")
  }
  // The header holds every name and metadata string at least once: refuse a hopeless one before
  // escaping it (utf8.count is O(1) for native strings).
  let lowerBound =
    metadata.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
    + tensors.keys.reduce(0) { $0 + $1.utf8.count }
  guard lowerBound <= SafeTensorsFile.maximumHeaderLength else {
    throw .unwritable(
      path: path,
      reason: "the header would be over \(lowerBound) bytes, above the format's limit of 100000000; "
        + "shorten the metadata")
  }
  let order = tensors.keys.sorted {
    let (a, b) = (tensors[$0]!.dtype.byteCount, tensors[$1]!.dtype.byteCount)
    return a != b ? a > b : $0 < $1
  }
  var offsets: [String: (Int, Int)] = [:]
  var offset = 0
  for name in order {
    let size = tensors[name]!.count * tensors[name]!.dtype.byteCount
    offsets[name] = (offset, offset + size)
    offset += size
  }
  var members: [String] = []
  if !metadata.isEmpty {
    let pairs = metadata.keys.sorted().map { jsonStringLiteral($0) + ":" + jsonStringLiteral(metadata[$0]!) }
    members.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
  }
  for name in tensors.keys.sorted() {
    let tensor = tensors[name]!, (begin, end) = offsets[name]!
    members.append(
      jsonStringLiteral(name) + ":{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":["
        + tensor.shape.map(String.init).joined(separator: ",") + "],\"data_offsets\":[\(begin),\(end)]}")
  }
  var header = Array(("{" + members.joined(separator: ",") + "}").utf8)
  header += [UInt8](repeating: UInt8(ascii: " "), count: (8 - header.count % 8) % 8)
  guard header.count <= SafeTensorsFile.maximumHeaderLength else {
    throw .unwritable(
      path: path,
      reason: "the header would be \(header.count) bytes, above the format's limit of 100000000; "
        + "shorten the metadata")
  }
  return (header, order)
}

/// The bytes of a safetensors file holding `tensors` and `metadata` (see ``writeSafeTensors(_:metadata:to:)``).
public func safeTensorsBytes(
  _ tensors: [String: SafeTensorsWritable], metadata: [String: String] = [:]
) throws(CheckpointError) -> [UInt8] {
  let (header, order) = try safeTensorsHeader(tensors, metadata: metadata, path: "<memory>")
  var bytes: [UInt8] = []
  var length = UInt64(header.count)
  for _ in 0..<8 {
    bytes.append(UInt8(truncatingIfNeeded: length))
    length >>= 8
  }
  bytes += header
  for name in order {
    try tensors[name]!.withLittleEndianBytes { bytes.append(contentsOf: $0) }
  }
  return bytes
}

/// Writes `tensors` and `metadata` to the safetensors file `path`, atomically.
///
/// The file is written to a temporary file in the same directory, flushed to disk (`fsync`), and
/// renamed over `path`: a crash leaves either the old file or the new one, never half a file. The
/// data goes straight from the tensors' memory to the file, without a copy of the whole.
public func writeSafeTensors(
  _ tensors: [String: SafeTensorsWritable], metadata: [String: String] = [:], to path: String
) throws(CheckpointError) {
  let (header, order) = try safeTensorsHeader(tensors, metadata: metadata, path: path)
  let slash = path.lastIndex(of: "/")
  let directory = slash.map { String(path[...$0]) } ?? ""
  let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
  let temporary = directory + ".\(base).\(getpid())-\(UInt64.random(in: 0...UInt64.max)).tmp"

  let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o666)
  guard fd >= 0 else { throw .unwritable(path: path, reason: "cannot create \(temporary): \(systemError())") }
  var closed = false
  do throws(CheckpointError) {
    func writeAll(_ raw: UnsafeRawBufferPointer) throws(CheckpointError) {
      var done = 0
      while done < raw.count {
        let n = write(fd, raw.baseAddress! + done, raw.count - done)
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { throw .unwritable(path: path, reason: "writing \(temporary): \(systemError())") }
        done += n
      }
    }
    var length = UInt64(header.count).littleEndian
    try withUnsafeBytes(of: &length) { (raw) throws(CheckpointError) in try writeAll(raw) }
    try header.withUnsafeBufferPointer { (raw) throws(CheckpointError) in
      try writeAll(UnsafeRawBufferPointer(raw))
    }
    for name in order { try tensors[name]!.withLittleEndianBytes(writeAll) }
    guard fsync(fd) == 0 else {
      throw .unwritable(path: path, reason: "flushing \(temporary): \(systemError())")
    }
    closed = true
    guard close(fd) == 0 else {
      throw .unwritable(path: path, reason: "closing \(temporary): \(systemError())")
    }
    guard rename(temporary, path) == 0 else {
      throw .unwritable(path: path, reason: "renaming \(temporary) into place: \(systemError())")
    }
  } catch {
    if !closed { close(fd) }
    unlink(temporary)
    throw error
  }
  // Make the rename itself durable; a failure here leaves a complete file either way.
  let directoryFD = open(directory.isEmpty ? "." : directory, O_RDONLY)
  if directoryFD >= 0 {
    fsync(directoryFD)
    close(directoryFD)
  }
}

/// Saves `tensors` (F32 for `Float`, F64 for `Double`) with `metadata` to the safetensors file
/// `path`, atomically (see ``writeSafeTensors(_:metadata:to:)``). PyTorch reads it with
/// `safetensors.torch.load_file(path)`.
public func saveSafeTensors<S: TensorScalar>(
  _ tensors: [String: Tensor<S>], metadata: [String: String] = [:], to path: String
) throws(CheckpointError) {
  try writeSafeTensors(tensors.mapValues { SafeTensorsWritable($0) }, metadata: metadata, to: path)
}

/// Loads every tensor of the safetensors file `path` as `Tensor<S>`, with the file's metadata.
///
/// Every tensor must be floating point (F64, F32, F16 or BF16); for files that also hold integer or
/// BOOL tensors, open a ``SafeTensorsFile`` and read each tensor by its type.
public func loadSafeTensors<S: TensorScalar>(
  _ path: String, as _: S.Type = S.self
) throws(CheckpointError) -> (tensors: [String: Tensor<S>], metadata: [String: String]) {
  let file = try SafeTensorsFile(contentsOf: path)
  var tensors: [String: Tensor<S>] = [:]
  for name in file.names { tensors[name] = try file.tensor(name, as: S.self) }
  return (tensors, file.metadata)
}
