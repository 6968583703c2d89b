import Awesomegrad

/// `ddp-fashion-epoch`: one epoch of the Fashion-MNIST MLP (784-256-128-10, ReLU, Adam lr 1e-3, Float)
/// at a total batch of 128, on 2 ranks of 64 (`mpirun -np 2`, 1 BLAS thread each) against 1 process of
/// 128 (1 BLAS thread). Each side first trains 50 warm-up batches, untimed. See
/// ``DataParallelBenchmark`` for the keys; `allreduce_bytes_per_step` is 235,146 gradients + 6 holder
/// counts, 4 bytes each, and `allreduce_isolated_us` a median of 50.
enum DDPFashionEpoch {
  static let name = "ddp-fashion-epoch"

  static var benchmark: DataParallelBenchmark {
    DataParallelBenchmark(
      name: name,
      makeModel: {
        MLP<Float>(inputs: 784, hiddenSizes: [256, 128], outputs: 10, activation: .relu, using: &$0)
      },
      globalBatch: 128, warmUpBatches: 50, timedBatches: nil, isolatedRepetitions: 50,
      syntheticCount: FashionMLPEpoch.samples, stepUnit: "epoch")
  }
}
