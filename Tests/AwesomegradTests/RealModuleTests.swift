import Awesomegrad
import RealModule
import Testing

/// swift-numerics beside Awesomegrad, as a user imports them. `Float.exp`, `Float.tanh`, … are
/// RealModule's alone: Awesomegrad adds no public members to `Float` or `Double` (its scalar protocol
/// refines `Real`), so each call below resolves to one function. Before, `Float.exp` and `Float.tanh`
/// were declared by both modules and did not compile here.
@Suite struct RealModuleTests {
  /// The calls compile unambiguously and give libm's values: e^0.5 = 1.6487212707001282,
  /// tanh 0.5 = 0.46211715726000974, ln 2 = 0.6931471805599453, erf 0.5 = 0.5204998778130465
  /// (to double precision, from the series), within one Float ulp.
  @Test func floatFunctionsAreRealModules() {
    let x: Float = 0.5
    #expect(abs(Float.exp(x) - 1.648_721_3) <= Float(1.648_721_3).ulp)
    #expect(abs(Float.tanh(x) - 0.462_117_16) <= Float(0.462_117_16).ulp)
    #expect(abs(Float.log(2) - 0.693_147_2) <= Float(0.693_147_2).ulp)
    #expect(abs(Float.erf(x) - 0.520_499_9) <= Float(0.520_499_9).ulp)
    #expect(Double.exp(0) == 1 && Double.log(onePlus: 0) == 0)
  }

  /// A tensor scalar is a `Real`: generic code written against swift-numerics takes tensor elements.
  @Test func tensorScalarsAreReal() {
    func expOverReal<T: Real>(_ x: T) -> T { T.exp(x) }
    func firstElementExp<Scalar: TensorScalar>(_ t: Tensor<Scalar>) -> Scalar { expOverReal(t.scalars[0]) }
    let t = Tensor<Float>([0.5, -1], shape: [2])
    #expect(firstElementExp(t) == Float.exp(0.5))
    // The tensor op and the scalar function agree (exp is libm's in both; tanh in Float tensors is a
    // rational approximation within 1e-6, see RationalTanhTests).
    #expect(t.exp().scalars == [Float.exp(0.5), Float.exp(-1)])
    #expect(zip(t.tanh().scalars, [Float.tanh(0.5), Float.tanh(-1)]).allSatisfy { abs($0 - $1) <= 1e-6 })
  }
}
