import Awesomegrad
import AwesomegradModels

/// `bench attention-crossover`: attention forward and backward through each kernel
/// (`withAttentionKernel`) at contexts 64 to 1024, for the dispatch's crossover. Each context keeps
/// the char-lm step's 2048 tokens (batch 2048/T) and heads (4 of size 32), in two forms: causal
/// `multiHeadAttention` on a packed `[B, T, 384]` (the char GPT's layer) and non-causal
/// `scaledDotProductAttention` on `[B, 4, T, 32]`. The kernels alternate within each round, and a
/// line per (form, context, kernel) reports the median over rounds of each round's median, in wall
/// time (`median_us`) and in this thread's CPU time (`cpu_median_us`, steadier on a busy machine;
/// the measure at 1 thread).
enum AttentionCrossover {
  static let name = "attention-crossover"
  static let contexts = [64, 128, 192, 256, 384, 512, 768, 1024]
  static let (tokens, heads, depth) = (2048, 4, 32)

  /// One line per (form, context, kernel), after `rounds` rounds of `steps` timed steps each.
  static func measure(rounds: Int, steps: Int) -> [JSONLine] {
    var times: [String: [Double]] = [:]
    var cpuTimes: [String: [Double]] = [:]
    for round in 0..<rounds {
      for context in contexts {
        for isCausal in [true, false] {
          let step = makeStep(context: context, isCausal: isCausal)
          let kernels = round % 2 == 0 ? AttentionKernel.allCases : AttentionKernel.allCases.reversed()
          for kernel in kernels {
            withAttentionKernel(kernel) {
              step()  // warm-up
              var samples: [Double] = [], cpu: [Double] = []
              for _ in 0..<steps {
                let start = threadCPUMicroseconds()
                samples.append(microseconds { step() })
                cpu.append(threadCPUMicroseconds() - start)
              }
              times[key(context, isCausal, kernel), default: []].append(median(samples))
              cpuTimes[key(context, isCausal, kernel), default: []].append(median(cpu))
            }
          }
        }
      }
    }
    var lines: [JSONLine] = []
    for isCausal in [true, false] {
      for context in contexts {
        for kernel in AttentionKernel.allCases {
          var line = JSONLine()
          line.add("workload", name)
          line.add("engine", "awesomegrad")
          line.add("dtype", "float32")
          line.add("threads", threadCount)
          line.add("form", isCausal ? "multiHeadAttention causal" : "scaledDotProductAttention")
          line.add("context", context)
          line.add("batch", tokens / context)
          line.add("kernel", "\(kernel)")
          line.add("rounds", rounds)
          line.add("steps", steps)
          line.add("median_us", median(times[key(context, isCausal, kernel)]!))
          line.add("cpu_median_us", median(cpuTimes[key(context, isCausal, kernel)]!))
          lines.append(line)
        }
      }
    }
    return lines
  }

  static func key(_ context: Int, _ isCausal: Bool, _ kernel: AttentionKernel) -> String {
    "\(context) \(isCausal) \(kernel)"
  }

  /// One forward and backward pass of the form at `context`, on inputs drawn once.
  static func makeStep(context: Int, isCausal: Bool) -> () -> Void {
    var rng = SeededGenerator(seed: 0)
    let batch = tokens / context
    if isCausal {
      let qkv = Tensor<Float>.randomNormal([batch, context, 3 * heads * depth], using: &rng).requireGrad()
      let upstream = Tensor<Float>.randomNormal([batch, context, heads * depth], using: &rng)
      return {
        qkv.zeroGrad()
        multiHeadAttention(qkv: qkv, heads: heads, isCausal: true).backward(gradient: upstream)
      }
    }
    let shape = [batch, heads, context, depth]
    let (q, k, v) = (
      Tensor<Float>.randomNormal(shape, using: &rng).requireGrad(),
      Tensor<Float>.randomNormal(shape, using: &rng).requireGrad(),
      Tensor<Float>.randomNormal(shape, using: &rng).requireGrad()
    )
    let upstream = Tensor<Float>.randomNormal(shape, using: &rng)
    return {
      for x in [q, k, v] { x.zeroGrad() }
      scaledDotProductAttention(query: q, key: k, value: v).backward(gradient: upstream)
    }
  }
}
