import CBLAS
import Testing

/// Calls the C libraries directly, with no Swift layer in between, so a broken link or header shows
/// up here first.
@Suite struct CBLASSmokeTests {
  /// [1 2; 3 4] · [5 6; 7 8] = [19 22; 43 50]
  @Test func dgemmMultipliesTwoMatrices() {
    let a: [Double] = [1, 2, 3, 4], b: [Double] = [5, 6, 7, 8]
    var c = [Double](repeating: 0, count: 4)
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 2, 1, a, 2, b, 2, 0, &c, 2)
    #expect(c == [19, 22, 43, 50])
  }

  /// 2x + y = 5, x + 3y = 10  ⇒  x = 1, y = 3.
  @Test func dgesvSolvesALinearSystem() {
    var a: [Double] = [2, 1, 1, 3]
    var b: [Double] = [5, 10]
    var pivots = [Int32](repeating: 0, count: 2)
    let info = LAPACKE_dgesv(LAPACK_ROW_MAJOR, 2, 1, &a, 2, &pivots, &b, 1)
    #expect(info == 0)
    #expect(abs(b[0] - 1) < 1e-12)
    #expect(abs(b[1] - 3) < 1e-12)
  }
}
