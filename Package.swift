// swift-tools-version:6.1
import PackageDescription

// Swift 6 language mode everywhere; Release builds specialise the generic engine for Float and Double
// inside the library (see `@_specialize` on the primitives), so clients get fast code without
// unsafe flags.
let package = Package(
  name: "Awesomegrad",
  platforms: [.macOS(.v13)],
  // MARK: - Products
  products: [
    .library(name: "Awesomegrad", targets: ["Awesomegrad"]),
    .library(name: "Micrograd", targets: ["Micrograd"]),
    .library(name: "AwesomegradDistributed", targets: ["AwesomegradDistributed"]),
    /// Hugging Face GPT-2 and Llama checkpoints and their byte-level BPE tokenizers.
    /// nanoGPT's GPT and its blocks, Hugging Face GPT-2 and Llama checkpoints and their byte-level BPE
    /// tokenizers: the models, kept out of the core.
    .library(name: "AwesomegradModels", targets: ["AwesomegradModels", "AwesomegradTokenizers"]),
    /// The data sets of the examples (moons, MNIST/Fashion-MNIST); the file formats stay in the core.
    .library(name: "AwesomegradDatasets", targets: ["AwesomegradDatasets"]),
  ],
  // MARK: - Dependencies
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    // Counts malloc calls and bytes for `bench`'s allocations-per-step and graph-memory columns.
    .package(url: "https://github.com/ordo-one/malloc-interposer", from: "1.6.0"),
    // `Real` (RealModule): the scalar protocol's elementary functions, so the library adds no public
    // members to Float and Double and `import RealModule` beside it is unambiguous.
    .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
    // `make docs`: the DocC catalogs in Sources/<Target>/<Target>.docc as a static site.
    .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
  ],
  targets: [
    // MARK: - C doorway
    .systemLibrary(
      name: "CBLAS",
      path: "Modules/CBLAS",
      pkgConfig: "openblas",
      providers: [.apt(["libopenblas-dev", "liblapacke-dev"]), .brew(["openblas", "lapack"])]
    ),
    /// Open MPI, for AwesomegradDistributed only: the core library never links it.
    .systemLibrary(
      name: "CMPI",
      path: "Modules/CMPI",
      pkgConfig: "ompi",
      providers: [.apt(["libopenmpi-dev", "openmpi-bin"]), .brew(["open-mpi"])]
    ),
    /// zlib's inflate and crc32 for gzip files; Swift reaches it only through Data/Zlib.swift.
    .systemLibrary(
      name: "CZlib",
      path: "Modules/CZlib",
      pkgConfig: "zlib",
      providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]
    ),

    // MARK: - Libraries
    .target(name: "Micrograd", path: "Sources/Micrograd"),
    .target(
      name: "Awesomegrad",
      dependencies: [
        "CBLAS", "CZlib", "AwesomegradKernels", .product(name: "RealModule", package: "swift-numerics"),
      ],
      path: "Sources/Awesomegrad"),
    /// The Float vector kernels (Adam, exact GELU) compiled for the baseline, AVX2 and AVX-512F; the
    /// library picks one per process from CPUFeatures.
    .target(name: "AwesomegradKernels", path: "Sources/AwesomegradKernels"),
    /// Data-parallel training over MPI: broadcast, fused gradient allreduce, sharded mini-batches.
    .target(
      name: "AwesomegradDistributed", dependencies: ["Awesomegrad", "AwesomegradKernels", "CMPI"],
      path: "Sources/AwesomegradDistributed"),
    /// The examples' data sets over the core's readers: moons, and MNIST-style IDX folders.
    .target(name: "AwesomegradDatasets", dependencies: ["Awesomegrad"], path: "Sources/AwesomegradDatasets"),
    /// Byte-level BPE tokenizers read from `tokenizer.json` (Foundation only, no tensors).
    .target(name: "AwesomegradTokenizers", path: "Sources/AwesomegradTokenizers"),
    /// Pretrained transformers in the Hugging Face layout: GPT-2 and Llama, loading, generation with
    /// a KV cache, fine-tuning with LoRA, saving back.
    .target(
      name: "AwesomegradModels", dependencies: ["Awesomegrad", "AwesomegradTokenizers"],
      path: "Sources/AwesomegradModels"),
    /// The fixture-driven op runner shared by the `conformance` tool and the tests (named apart from the
    /// tool, so the two modules do not clash on case-insensitive file systems).
    .target(name: "TorchConformance", dependencies: ["Awesomegrad"], path: "Sources/TorchConformance"),

    // MARK: - Examples and tools
    /// The SVG training curves the examples draw, in one place.
    .target(name: "ExamplePlots", path: "Examples/Plots"),
    .executableTarget(
      name: "moons",
      dependencies: [
        "Micrograd", "Awesomegrad", "ExamplePlots",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      path: "Examples/moons"
    ),
    .executableTarget(
      name: "pinn",
      dependencies: [
        "Awesomegrad", "ExamplePlots", .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      path: "Examples/pinn"
    ),
    .executableTarget(
      name: "regression",
      dependencies: ["Awesomegrad", .product(name: "ArgumentParser", package: "swift-argument-parser")],
      path: "Examples/regression"
    ),
    .executableTarget(
      name: "fashion-mnist",
      dependencies: [
        "Awesomegrad", "AwesomegradDatasets", "AwesomegradDistributed", "ExamplePlots",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      path: "Examples/fashion-mnist"
    ),
    .executableTarget(
      name: "char-lm",
      dependencies: [
        "Awesomegrad", "AwesomegradModels", "ExamplePlots",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      path: "Examples/char-lm"
    ),
    .executableTarget(
      name: "conformance",
      dependencies: ["TorchConformance", .product(name: "ArgumentParser", package: "swift-argument-parser")],
      path: "Tools/conformance"
    ),
    .executableTarget(
      name: "checkpoint",
      dependencies: ["Awesomegrad", .product(name: "ArgumentParser", package: "swift-argument-parser")],
      path: "Tools/checkpoint"
    ),
    .executableTarget(
      name: "bench",
      dependencies: [
        "Micrograd", "Awesomegrad", "AwesomegradDatasets", "AwesomegradModels",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "MallocInterposerSwift", package: "malloc-interposer"),
        "AwesomegradDistributed",
      ],
      path: "Benchmarks/bench"
    ),
    /// `hf-model tokenize|decode|logits|generate|loss|finetune`: Hugging Face checkpoints from the shell.
    .executableTarget(
      name: "hf-model",
      dependencies: [
        "AwesomegradModels", "AwesomegradTokenizers", "Awesomegrad",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      path: "Tools/hf-model"
    ),
    /// `mpirun -np 2 ddp-check`: data-parallel training against one process at the whole batch.
    .executableTarget(
      name: "ddp-check",
      dependencies: [
        "AwesomegradDistributed", .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      path: "Tools/ddp-check"
    ),

    // MARK: - Tests
    .testTarget(name: "MicrogradTests", dependencies: ["Micrograd"], resources: [.copy("Fixtures")]),
    /// Runs the package's executables for the tests that start, signal and restart them.
    .target(name: "TestSupport", path: "Tests/TestSupport"),
    .testTarget(
      name: "AwesomegradTests",
      dependencies: [
        "Awesomegrad", "Micrograd", "TorchConformance", "CBLAS", "AwesomegradKernels", "TestSupport",
        "AwesomegradModels", "AwesomegradDatasets", .product(name: "RealModule", package: "swift-numerics"),
      ],
      resources: [.copy("Fixtures")]
    ),
    .testTarget(
      name: "AwesomegradModelsTests", dependencies: ["AwesomegradModels", "AwesomegradTokenizers", "Awesomegrad"],
      resources: [.copy("Fixtures")]),
    .testTarget(
      name: "AwesomegradDistributedTests", dependencies: ["AwesomegradDistributed", "Awesomegrad", "TestSupport"]),
  ],
  swiftLanguageModes: [.v6]
)
