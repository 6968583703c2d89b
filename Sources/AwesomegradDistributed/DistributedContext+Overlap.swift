import Awesomegrad
import CMPI

// Gradient averaging that overlaps the backward pass (PyTorch DDP's buckets, Horovod's background
// thread): the allreduce of the last layers' gradients is under way while the first layers' are
// still being computed.

/// The parameters whose gradients travel together in one `MPI_Iallreduce` of the overlapped
/// averaging, and where they sit in the fusion buffer: `[holder counts …, gradients …]`.
struct GradientBucket {
  /// Indices into the parameter list, in packing order.
  var parameters: [Int]
  /// The bucket's first scalar in the fusion buffer.
  var offset: Int
  /// Scalars: one holder count per parameter, then their gradients.
  var count: Int
  /// Parameters of the bucket whose gradients are final in this pass.
  var ready = 0
}

extension DistributedContext {
  /// Runs `backward` and replaces every parameter's gradient by its mean over the ranks, starting the
  /// communication during the pass (PyTorch's `DistributedDataParallel`). `backward` receives the
  /// hook to hand to ``Awesomegrad/Tensor/backward(gradient:retainGraph:file:line:onLeafGradientReady:)``:
  ///
  ///     try context.averageGradients(of: model.parameters) { ready in loss.backward(onLeafGradientReady: ready) }
  ///
  /// The parameters are grouped, last first (the order in which backward finishes them), into
  /// buckets: the first of at most ``firstBucketBytes``, the others of at most ``bucketBytes``
  /// (1 MiB each); a parameter is never split, so one larger than the limit has a
  /// bucket of its own. When every gradient of a bucket is final, the bucket is packed (each
  /// parameter's holder count, then its gradient) and its `MPI_Iallreduce` starts. From the first
  /// start on, a second thread lets MPI progress (`MPI_Test`) every ``progressInterval`` while
  /// backward computes, since Open MPI moves a collective only inside MPI calls (the context holds
  /// `MPI_THREAD_SERIALIZED`, and the two threads' calls take turns under one lock); with a nil
  /// interval each later hook call does. Buckets start in order on every rank, as MPI requires of
  /// collectives: a bucket that is ready early waits for the ones before it. After the pass the
  /// buckets that no gradient reached are started, every request is waited for under ``timeout``,
  /// and the sums are unpacked divided by ``size``, exactly as ``averageGradients(of:)`` unpacks them:
  /// the result is the same (a parameter without a gradient on some rank counts as zero there; one
  /// without a gradient anywhere keeps none). The sums are MPI's, so they ignore
  /// ``gradientReduction``.
  ///
  /// With one rank it only runs `backward`.
  ///
  /// - Parameters:
  ///   - parameters: the same shapes in the same order on every rank (checked on first use); each
  ///     tensor once.
  ///   - backward: runs the backward pass, passing the hook on.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func averageGradients<Scalar: TensorScalar>(
    of parameters: [Tensor<Scalar>], overlapping backward: (_ hook: @escaping (Tensor<Scalar>) -> Void) -> Void
  ) throws(DistributedError) {
    let call = "averageGradients(overlapping:)"
    try checkActive(call)
    guard let communicator, size > 1 else {
      backward { _ in }
      return
    }
    let start = ContinuousClock.now
    let datatype = try mpiDatatype(Scalar.self, call: call)
    try verifySameLayout(parameters.map(\.shape), call: call)
    var position: [ObjectIdentifier: Int] = [:]
    for (index, parameter) in parameters.enumerated() {
      guard position.updateValue(index, forKey: ObjectIdentifier(parameter)) == nil else {
        throw .invalidUse(call: call, detail: "parameter \(index) (\(parameter.shape)) is listed twice")
      }
    }
    var buckets = try makeBuckets(parameters, Scalar.self, call: call)
    let total = buckets.last.map { $0.offset + $0.count } ?? 0
    let buffer = fusionBuffer(Scalar.self, count: Swift.max(total, 1))
    var bucketOf = [Int](repeating: 0, count: parameters.count)
    for (b, bucket) in buckets.enumerated() { for index in bucket.parameters { bucketOf[index] = b } }

    var nextLaunch = 0
    let requests = RequestProgress(count: buckets.count)
    let background = progressInterval != nil
    defer { requests.stopThread() }  // also when backward or a launch fails
    /// Packs and starts every bucket from `nextLaunch` on that is complete (all of them with `all`).
    func launchReady(all: Bool) {
      while nextLaunch < buckets.count,
        all || buckets[nextLaunch].ready == buckets[nextLaunch].parameters.count
      {
        let bucket = buckets[nextLaunch]
        pack(bucket, of: parameters, into: buffer)
        let started = requests.start(nextLaunch, call: "MPI_Iallreduce") { request in
          MPI_Iallreduce(
            UnsafeRawPointer(awesomegrad_mpi_in_place()), buffer + bucket.offset, Int32(bucket.count),
            datatype,
            awesomegrad_mpi_sum(), communicator, &request)
        }
        guard started else { return }  // reported after backward
        nextLaunch += 1
        if background, let progressInterval { requests.startThread(interval: progressInterval) }
      }
    }
    backward { leaf in
      guard let index = position[ObjectIdentifier(leaf)] else { return }
      buckets[bucketOf[index]].ready += 1
      launchReady(all: false)
      if !background { requests.testPending() }
    }
    launchReady(all: true)
    requests.stopThread()
    if let failure = requests.error(naming: call) { throw failure }
    let divisor = Scalar(size)
    for b in buckets.indices {
      var request = requests.request(b)
      if request != nil {
        try mpiWait(&request, call: "MPI_Iallreduce (\(call))", timeout: timeout, rank: rank, size: size)
      }
      unpack(buckets[b], of: parameters, from: buffer, divisor: divisor)
      statistics.allreduceCalls += 1
      statistics.allreduceBytes += buckets[b].count * MemoryLayout<Scalar>.stride
    }
    recordGradientAverage(since: start)
  }

  /// The buckets of `parameters`, last parameter first: the first up to ``firstBucketBytes``, the
  /// rest up to ``bucketBytes``, never splitting a parameter.
  private func makeBuckets<Scalar>(_ parameters: [Tensor<Scalar>], _: Scalar.Type, call: String)
    throws(DistributedError) -> [GradientBucket]
  {
    let stride = MemoryLayout<Scalar>.stride
    var buckets: [GradientBucket] = []
    var current = GradientBucket(parameters: [], offset: 0, count: 0)
    for index in parameters.indices.reversed() {
      let scalars = 1 + parameters[index].count  // its holder count and its gradient
      let limit = (buckets.isEmpty ? firstBucketBytes : bucketBytes) / stride
      if !current.parameters.isEmpty && current.count + scalars > limit {
        buckets.append(current)
        current = GradientBucket(parameters: [], offset: current.offset + current.count, count: 0)
      }
      current.parameters.append(index)
      current.count += scalars
      guard current.count <= Int(Int32.max) else {
        throw .invalidUse(
          call: call,
          detail: "parameter \(index) has \(parameters[index].count) elements, more than MPI's count limit")
      }
    }
    if !current.parameters.isEmpty { buckets.append(current) }
    return buckets
  }

  /// Writes the bucket's holder counts (1 for a parameter with a gradient, else 0) and gradients
  /// (zeros for a parameter without one) into its range of `buffer`.
  private func pack<Scalar: TensorScalar>(
    _ bucket: GradientBucket, of parameters: [Tensor<Scalar>], into buffer: UnsafeMutablePointer<Scalar>
  ) {
    var cursor = buffer + bucket.offset + bucket.parameters.count
    for (k, index) in bucket.parameters.enumerated() {
      let tensor = parameters[index]
      buffer[bucket.offset + k] = packGradient(of: tensor, elements: 0..<tensor.count, into: cursor) ? 1 : 0
      cursor += tensor.count
    }
  }

  /// Replaces each gradient of the bucket by its summed range of `buffer` divided by `divisor`; a
  /// parameter that no rank had a gradient for is left without one.
  private func unpack<Scalar: TensorScalar>(
    _ bucket: GradientBucket, of parameters: [Tensor<Scalar>], from buffer: UnsafeMutablePointer<Scalar>,
    divisor: Scalar
  ) {
    var cursor = bucket.offset + bucket.parameters.count
    for (k, index) in bucket.parameters.enumerated() {
      let tensor = parameters[index]
      defer { cursor += tensor.count }
      guard buffer[bucket.offset + k] > 0 else { continue }
      unpackAverage(.sum(buffer), from: cursor, into: tensor, elements: 0..<tensor.count, divisor: divisor)
    }
  }
}
