/// GPT-2's pre-tokenizer: splits text into the pieces that BPE then merges, as the regular expression
///
///     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
///
/// does when it is matched repeatedly from the start (Oniguruma, as `tokenizers` runs it): at each
/// position the first alternative that matches wins. Written out as a scanner over Unicode scalars
/// instead of a regular-expression engine; the three character classes come from Swift's Unicode
/// properties:
///
/// - `\p{L}`: general category Lu, Ll, Lt, Lm or Lo (a combining mark, Mn, is not a letter, so
///   `e` + U+0301 splits after the `e`);
/// - `\p{N}`: Nd, Nl or No (`½`, `Ⅻ` and `٣` are numbers);
/// - `\s`: the White_Space property. Oniguruma's Unicode `\s` is U+0009–U+000D, U+0085 and the
///   categories Zs, Zl and Zp, which is the same set.
///
/// The contractions are lower-case and use the ASCII apostrophe only; the optional space is U+0020
/// only; `\s+(?!\S)` takes a run of whitespace but leaves its last character to the word after it.
enum GPT2PreTokenizer {
  /// What the regular expression distinguishes about a character.
  enum CharacterClass: UInt8 {
    case letter, number, whitespace, other
  }

  /// The class of `scalar`, from its Unicode properties.
  @inline(__always)
  static func characterClass(_ scalar: Unicode.Scalar) -> CharacterClass {
    if scalar.value < 128 { return asciiClasses[Int(scalar.value)] }
    return classFromProperties(scalar)
  }

  /// The classes of the 128 ASCII scalars, computed once from the same properties (a shortcut for
  /// the common case, not a table of its own).
  static let asciiClasses: [CharacterClass] = (0..<128).map { classFromProperties(Unicode.Scalar(UInt8($0))) }

  static func classFromProperties(_ scalar: Unicode.Scalar) -> CharacterClass {
    let properties = scalar.properties
    switch properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
    case .decimalNumber, .letterNumber, .otherNumber: return .number
    default: return properties.isWhitespace ? .whitespace : .other
    }
  }

  /// The pieces of `scalars` as ranges of indices into it, in order; together they cover every scalar.
  static func split(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
    var pieces: [Range<Int>] = []
    let n = scalars.count
    var i = 0
    while i < n {
      let end = match(scalars, at: i)
      pieces.append(i..<end)
      i = end
    }
    return pieces
  }

  /// The end of the match that starts at `i` (always past `i`: some alternative matches every character).
  static func match(_ s: [Unicode.Scalar], at i: Int) -> Int {
    let n = s.count
    // 's|'t|'re|'ve|'m|'ll|'d
    if s[i] == "'" && i + 1 < n {
      switch s[i + 1] {
      case "s", "t", "m", "d": return i + 2
      case "r", "v": if i + 2 < n && s[i + 2] == "e" { return i + 3 }
      case "l": if i + 2 < n && s[i + 2] == "l" { return i + 3 }
      default: break
      }
    }
    // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional space, then a run of one class.
    let start = (s[i] == " " && i + 1 < n) ? i + 1 : i
    let first = characterClass(s[start])
    if first != .whitespace {
      var end = start + 1
      while end < n && characterClass(s[end]) == first { end += 1 }
      return end
    }
    // Whitespace (the space alone, before whitespace or at the end, comes here too).
    var end = i + 1
    while end < n && characterClass(s[end]) == .whitespace { end += 1 }
    // `\s+(?!\S)`: at the end of the text the whole run; before a non-space, all but the last
    // character of the run, if that leaves one. Otherwise `\s+`: the whole run.
    if end < n && end - i >= 2 { return end - 1 }
    return end
  }
}
