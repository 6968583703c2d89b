/// A small DEFLATE decoder (RFC 1951): stored, fixed-Huffman and dynamic-Huffman blocks.
///
/// Deflate data is a sequence of blocks. Each block holds literal bytes and back-references
/// (length, distance) to bytes already written, encoded with two Huffman codes: one for
/// literals/lengths (symbols 0…285: 0…255 a literal byte, 256 end of block, 257…285 a length) and one
/// for distances (0…29). Bits are read least-significant first; Huffman codes are stored
/// most-significant bit first, so the decoding tables are indexed by bit-reversed codes.
///
/// Speed comes from table decoding: a Huffman code with longest code length L gets a table of 2ᴸ
/// entries, indexed by the next L input bits, each holding the symbol and its code length.
struct Inflater: ~Copyable {
  /// Why the stream could not be decoded.
  struct Failure: Error {
    let reason: String
  }

  private let input: UnsafeBufferPointer<UInt8>
  /// The next input byte to load into `bits`.
  private var position: Int
  /// Up to 64 input bits, the next one in the lowest bit.
  private var bits: UInt64 = 0
  private var bitCount = 0
  /// How many zero bytes past the end were loaded; more than we could have needed means truncation.
  private var overrun = 0
  private var output: OutputBuffer

  /// Decodes the deflate stream that starts at `start` in `input`.
  /// - Returns: the decoded bytes and the index of the first input byte after the stream.
  static func inflate(
    _ input: UnsafeBufferPointer<UInt8>, from start: Int, sizeHint: Int
  ) throws(Failure) -> (bytes: [UInt8], end: Int) {
    var inflater = Inflater(input: input, position: start, output: OutputBuffer(capacity: sizeHint))
    try inflater.run()
    // The whole bytes still in the bit buffer were read ahead: the stream ends before them (the bits
    // left of a partial byte are padding).
    return (inflater.output.takeBytes(), inflater.position - inflater.bitCount / 8)
  }

  private init(input: UnsafeBufferPointer<UInt8>, position: Int, output: consuming OutputBuffer) {
    self.input = input
    self.position = position
    self.output = output
  }

  // MARK: Bits

  /// Makes sure at least 57 bits are buffered (zero bytes stand in past the end).
  @inline(__always)
  private mutating func refill() {
    while bitCount <= 56 {
      let byte: UInt64
      if position < input.count {
        byte = UInt64(input[position])
      } else {
        byte = 0
        overrun += 1
      }
      position += 1
      bits |= byte << UInt64(bitCount)
      bitCount += 8
    }
  }

  @inline(__always)
  private mutating func take(_ n: Int) throws(Failure) -> Int {
    if bitCount < n { refill() }
    let value = Int(bits & ((1 << UInt64(n)) - 1))
    bits >>= UInt64(n)
    bitCount -= n
    try checkOverrun()
    return value
  }

  @inline(__always)
  private func checkOverrun() throws(Failure) {
    // Bytes loaded past the end that have been consumed: any means the stream was cut short.
    if overrun > 0 && overrun * 8 > bitCount { throw Failure(reason: "the compressed data ends early") }
  }

  /// Decodes one symbol with `table`.
  @inline(__always)
  private mutating func decode(_ table: HuffmanTable) throws(Failure) -> Int {
    if bitCount < 15 { refill() }
    let entry = table.entries[Int(bits & UInt64(table.mask))]
    let length = Int(entry & 0xF)
    if length == 0 { throw Failure(reason: "invalid Huffman code") }
    bits >>= UInt64(length)
    bitCount -= length
    try checkOverrun()
    return Int(entry >> 4)
  }

  // MARK: Blocks

  private mutating func run() throws(Failure) {
    var isLast = false
    while !isLast {
      isLast = try take(1) == 1
      switch try take(2) {
      case 0: try storedBlock()
      case 1: try huffmanBlock(literals: HuffmanTable.fixedLiterals, distances: HuffmanTable.fixedDistances)
      case 2:
        let (literals, distances) = try readDynamicTables()
        try huffmanBlock(literals: literals, distances: distances)
      default: throw Failure(reason: "invalid block type 3")
      }
    }
  }

  /// A stored block: skip to a byte boundary, then LEN, its complement NLEN, and LEN raw bytes.
  private mutating func storedBlock() throws(Failure) {
    _ = try take(bitCount % 8)
    let length = try take(16), complement = try take(16)
    if length != (~complement & 0xFFFF) { throw Failure(reason: "stored block length check failed") }
    // Copy from the bit buffer first, then straight from the input.
    var remaining = length
    while remaining > 0 && bitCount >= 8 {
      output.append(UInt8(try take(8)))
      remaining -= 1
    }
    if remaining > 0 {
      if position + remaining > input.count { throw Failure(reason: "the compressed data ends early") }
      output.append(UnsafeBufferPointer(rebasing: input[position..<(position + remaining)]))
      position += remaining
    }
  }

  /// Length symbols 257…285: base length and extra bits.
  private static let lengthBase: [Int] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195,
    227, 258,
  ]
  private static let lengthExtra: [Int] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
  ]
  /// Distance symbols 0…29: base distance and extra bits.
  private static let distanceBase: [Int] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
    4097, 6145, 8193, 12289, 16385, 24577,
  ]
  private static let distanceExtra: [Int] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
  ]

  /// Literals and back-references until the end-of-block symbol 256.
  private mutating func huffmanBlock(literals: HuffmanTable, distances: HuffmanTable) throws(Failure) {
    while true {
      let symbol = try decode(literals)
      if symbol < 256 {
        output.append(UInt8(symbol))
        continue
      }
      if symbol == 256 { return }
      let lengthIndex = symbol - 257
      if lengthIndex >= 29 { throw Failure(reason: "invalid length symbol \(symbol)") }
      let length = Self.lengthBase[lengthIndex] + (try take(Self.lengthExtra[lengthIndex]))
      let distanceSymbol = try decode(distances)
      if distanceSymbol >= 30 { throw Failure(reason: "invalid distance symbol \(distanceSymbol)") }
      let distance = Self.distanceBase[distanceSymbol] + (try take(Self.distanceExtra[distanceSymbol]))
      if distance > output.count { throw Failure(reason: "a back-reference points before the start") }
      output.copyBack(distance: distance, length: length)
    }
  }

  /// The order in which code-length code lengths are stored.
  private static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

  /// A dynamic block's header: the code lengths of both codes, themselves Huffman-coded.
  private mutating func readDynamicTables() throws(Failure) -> (HuffmanTable, HuffmanTable) {
    let literalCount = try take(5) + 257, distanceCount = try take(5) + 1, codeLengthCount = try take(4) + 4
    if literalCount > 286 || distanceCount > 30 { throw Failure(reason: "too many codes in a dynamic block") }
    var codeLengthLengths = [UInt8](repeating: 0, count: 19)
    for i in 0..<codeLengthCount { codeLengthLengths[Self.codeLengthOrder[i]] = UInt8(try take(3)) }
    let codeLengthTable = try HuffmanTable(lengths: codeLengthLengths)

    var lengths = [UInt8](repeating: 0, count: literalCount + distanceCount)
    var i = 0
    while i < lengths.count {
      let symbol = try decode(codeLengthTable)
      var repeatCount = 1, value: UInt8 = 0
      switch symbol {
      case 0...15: value = UInt8(symbol)
      case 16:
        if i == 0 { throw Failure(reason: "a repeat code with no previous length") }
        value = lengths[i - 1]
        repeatCount = 3 + (try take(2))
      case 17: repeatCount = 3 + (try take(3))
      default: repeatCount = 11 + (try take(7))
      }
      if i + repeatCount > lengths.count { throw Failure(reason: "code lengths overflow the table") }
      for _ in 0..<repeatCount {
        lengths[i] = value
        i += 1
      }
    }
    if lengths[256] == 0 { throw Failure(reason: "no end-of-block code") }
    return (
      try HuffmanTable(lengths: Array(lengths[..<literalCount])),
      try HuffmanTable(lengths: Array(lengths[literalCount...]))
    )
  }
}

/// A canonical Huffman code as a lookup table: entry = symbol << 4 | code length, indexed by the next
/// `maxLength` input bits (bit-reversed code, padded with every possible suffix).
struct HuffmanTable {
  let entries: [UInt16]
  let mask: Int

  /// Builds the canonical code from the code length of each symbol (0: symbol unused).
  init(lengths: [UInt8]) throws(Inflater.Failure) {
    let maxLength = Int(lengths.max() ?? 0)
    guard maxLength > 0 else {
      // A code with no symbols (allowed for distances when a block has only literals).
      entries = [0]
      mask = 0
      return
    }
    // Count codes per length, then the first code of each length (RFC 1951 §3.2.2).
    var countPerLength = [Int](repeating: 0, count: 16)
    for length in lengths where length > 0 { countPerLength[Int(length)] += 1 }
    var nextCode = [Int](repeating: 0, count: 16)
    var code = 0
    for length in 1...15 {
      code = (code + countPerLength[length - 1]) << 1
      nextCode[length] = code
      if countPerLength[length] > 0 && nextCode[length] + countPerLength[length] > (1 << length) {
        throw Inflater.Failure(reason: "over-subscribed Huffman code")
      }
    }
    var table = [UInt16](repeating: 0, count: 1 << maxLength)
    for (symbol, length) in lengths.enumerated() where length > 0 {
      let length = Int(length)
      let code = nextCode[length]
      nextCode[length] += 1
      // Reverse the code's bits: deflate sends Huffman codes most-significant bit first.
      var reversed = 0
      for bit in 0..<length where code & (1 << bit) != 0 { reversed |= 1 << (length - 1 - bit) }
      let entry = UInt16(symbol << 4 | length)
      var index = reversed
      while index < table.count {
        table[index] = entry
        index += 1 << length
      }
    }
    entries = table
    mask = (1 << maxLength) - 1
  }

  /// The fixed literal/length code of block type 1.
  static let fixedLiterals = try! HuffmanTable(
    lengths: (0..<288).map { symbol in
      switch symbol {
      case 0..<144: 8
      case 144..<256: 9
      case 256..<280: 7
      default: 8
      }
    })

  /// The fixed distance code of block type 1: 30 symbols of 5 bits (32 in the table).
  static let fixedDistances = try! HuffmanTable(lengths: [UInt8](repeating: 5, count: 32))
}

/// A growable byte buffer with an unchecked back-reference copy. Noncopyable, so that it can own its
/// memory and free it in `deinit`.
struct OutputBuffer: ~Copyable {
  private var storage: UnsafeMutablePointer<UInt8>
  private var capacity: Int
  private(set) var count = 0

  init(capacity: Int) {
    self.capacity = max(capacity, 1024)
    storage = .allocate(capacity: self.capacity)
  }

  deinit { storage.deallocate() }

  @inline(__always)
  private mutating func reserve(_ extra: Int) {
    guard count + extra > capacity else { return }
    let newCapacity = max(capacity * 2, count + extra)
    let newStorage = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
    newStorage.update(from: storage, count: count)
    storage.deallocate()
    storage = newStorage
    capacity = newCapacity
  }

  @inline(__always)
  mutating func append(_ byte: UInt8) {
    reserve(1)
    storage[count] = byte
    count += 1
  }

  mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
    reserve(bytes.count)
    (storage + count).update(from: bytes.baseAddress!, count: bytes.count)
    count += bytes.count
  }

  /// Appends `length` bytes copied from `distance` bytes back; the ranges may overlap (a run).
  @inline(__always)
  mutating func copyBack(distance: Int, length: Int) {
    reserve(length)
    var from = storage + (count - distance), to = storage + count
    for _ in 0..<length {
      to.pointee = from.pointee
      to += 1
      from += 1
    }
    count += length
  }

  /// The bytes written, as an array.
  func takeBytes() -> [UInt8] { Array(UnsafeBufferPointer(start: storage, count: count)) }
}
