import Awesomegrad
import AwesomegradTokenizers
import Foundation

/// One tensor a model needs: its Hugging Face name, the shape its configuration implies, the config
/// fields that shape comes from (for errors), and how a fresh model draws it.
struct TensorSpecification {
  /// How a freshly initialised model fills the tensor (`transformers`' `_init_weights`).
  enum Initial {
    case normal(standardDeviation: Double)
    case ones
    case zeros
  }

  let name: String
  let shape: [Int]
  let fields: String
  let initial: Initial
}

/// The tensors of a model folder: `model.safetensors`, or the shards listed by
/// `model.safetensors.index.json`, each memory-mapped and validated when opened.
///
/// Nothing is decoded until ``decode(_:)``, which converts F32, F16 and BF16 to Float and gives the
/// file's pages back as it goes (see `SafeTensorsFile.init(mappingContentsOf:)`), so a loaded model
/// holds one copy of its weights.
final class CheckpointTensors {
  /// The file named in errors: `model.safetensors` or the index.
  let path: String
  private var files: [String: SafeTensorsFile] = [:]
  /// Tensor name → the path of the file that holds it.
  private(set) var fileOfTensor: [String: String] = [:]

  /// Opens the weights of the model folder `directory`.
  init(directory: String) throws {
    let single = directory + "/model.safetensors"
    let index = directory + "/model.safetensors.index.json"
    let manager = FileManager.default
    if manager.fileExists(atPath: single) {
      path = single
      let file = try SafeTensorsFile(mappingContentsOf: single)
      files[single] = file
      for name in file.names { fileOfTensor[name] = single }
    } else if manager.fileExists(atPath: index) {
      path = index
      let root = try JSONField(parsing: try readFile(index), file: index)
      let shardOfTensor = try root.required("weight_map").members()
      for (name, field) in shardOfTensor {
        let shard = try field.string()
        guard !shard.isEmpty, !shard.contains("/"), shard != ".", shard != ".." else {
          throw ModelError.invalidIndex(
            file: index, reason: "weight_map.\(name): \"\(shard)\" is not a file name in the model folder")
        }
        let shardPath = directory + "/" + shard
        if files[shardPath] == nil {
          guard manager.fileExists(atPath: shardPath) else {
            throw ModelError.missingFile(path: shardPath, expected: "a shard that \(index) lists")
          }
          files[shardPath] = try SafeTensorsFile(mappingContentsOf: shardPath)
        }
        guard files[shardPath]!.entries[name] != nil else {
          throw ModelError.invalidIndex(file: index, reason: "weight_map names \"\(name)\", which \(shard) does not hold")
        }
        fileOfTensor[name] = shardPath
      }
      // A tensor in a shard that the index does not list is read too, as `transformers` reads whole shards.
      for (shardPath, file) in files {
        for name in file.names where fileOfTensor[name] == nil { fileOfTensor[name] = shardPath }
      }
    } else {
      throw ModelError.missingFile(
        path: single, expected: "a model folder holds model.safetensors or model.safetensors.index.json")
    }
  }

  /// The entry of `name`, if the checkpoint holds it.
  func entry(_ name: String) -> SafeTensorsEntry? {
    fileOfTensor[name].flatMap { files[$0]?.entries[name] }
  }

  /// The file that holds `name`, for errors.
  func file(of name: String) -> String { fileOfTensor[name] ?? path }

  /// The tensor `name` decoded to Float, as a leaf.
  func decode(_ name: String) throws -> Tensor<Float> {
    guard let path = fileOfTensor[name], let file = files[path] else {
      throw ModelError.missingTensors(file: self.path, names: [name])
    }
    return try file.tensor(name, as: Float.self)
  }

  /// Checks `specifications` against the checkpoint: every tensor present (by its name, or without the
  /// model's base prefix, as `transformers` loads a base-model checkpoint into a head model), with
  /// the shape the configuration implies, and, when `strict`, nothing else except `ignored` names.
  ///
  /// - Returns: the checkpoint name of each specification, and the names left unused.
  /// - Throws: ``ModelError`` naming every missing tensor, the first shape that disagrees, or the
  ///   unexpected tensors.
  func match(
    _ specifications: [TensorSpecification], basePrefix: String, strict: Bool, ignored: (String) -> Bool
  ) throws -> (names: [String], unused: [String]) {
    var names: [String] = []
    var missing: [String] = []
    for spec in specifications {
      var name = spec.name
      if entry(name) == nil, name.hasPrefix(basePrefix), entry(String(name.dropFirst(basePrefix.count))) != nil {
        name = String(name.dropFirst(basePrefix.count))
      }
      guard let entry = entry(name) else {
        missing.append(spec.name)
        continue
      }
      guard entry.shape == spec.shape else {
        throw ModelError.shapeMismatch(
          file: file(of: name), tensor: name, expected: spec.shape, found: entry.shape, fields: spec.fields)
      }
      guard entry.dtype.isFloatingPoint else {
        throw CheckpointError.wrongDType(
          path: file(of: name), tensor: name, dtype: entry.dtype.rawValue, wanted: "a float tensor")
      }
      names.append(name)
    }
    if !missing.isEmpty { throw ModelError.missingTensors(file: path, names: missing) }
    let used = Set(names)
    let unused = fileOfTensor.keys.filter { !used.contains($0) && !ignored($0) }.sorted()
    if strict && !unused.isEmpty { throw ModelError.unexpectedTensors(file: path, names: unused) }
    return (names, unused)
  }
}

/// A fresh tensor for `spec`, drawn as `transformers` initialises it.
func initialTensor(_ spec: TensorSpecification, using generator: inout SeededGenerator) -> Tensor<Float> {
  switch spec.initial {
  case .normal(let deviation):
    return Tensor<Float>.randomNormal(spec.shape, standardDeviation: Float(deviation), using: &generator)
  case .ones: return Tensor<Float>.ones(spec.shape)
  case .zeros: return Tensor<Float>.zeros(spec.shape)
  }
}
