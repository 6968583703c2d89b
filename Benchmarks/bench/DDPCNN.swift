import Awesomegrad

/// `ddp-cnn`: 150 global batches of the Fashion-MNIST CNN (`cnn-fashion`'s model: two 3×3
/// convolutions with max pooling, then 3136→128→10; Adam lr 1e-3, Float) at a global batch of 64, on
/// 2 ranks of 32 (`mpirun -np 2`, 1 BLAS thread each) against 1 process of 64 (1 BLAS thread). Each
/// side first trains 10 warm-up batches, untimed. See ``DataParallelBenchmark`` for the keys.
///
/// The CNN is the compute-bound case: each weight of a convolution is used at every output position
/// (28·28 and 14·14 of them), so a step is about 2·(2·784·288 + 3·196·18,432 + 3·3136·128)·32 ≈ 0.8
/// GFLOP per rank at batch 32 against 421,642 gradients (1.7 MB) to average, where the MLP does
/// 0.09 GFLOP per rank at batch 64 for 235,146 gradients.
enum DDPCNN {
  static let name = "ddp-cnn"

  static var benchmark: DataParallelBenchmark {
    DataParallelBenchmark(
      name: name, makeModel: { CNNFashion.makeModel(using: &$0).0 }, imageShape: [1, 28, 28],
      globalBatch: 64, warmUpBatches: 10, timedBatches: 150, isolatedRepetitions: 20,
      syntheticCount: 64 * 160, stepUnit: "150 global batches")
  }
}
