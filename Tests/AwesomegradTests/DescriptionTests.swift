import Testing

@testable import Awesomegrad

/// Tensors print like numpy: nested brackets, aligned columns, `...` for large tensors, the shape.
@Suite struct DescriptionTests {
  @Test func matrix() {
    let t = Tensor<Float>([1, 2, 3, 4], shape: [2, 2])
    #expect(t.description == "Tensor<Float>([[1.0, 2.0],\n               [3.0, 4.0]], shape: [2, 2])")
  }

  @Test func scalarAndVector() {
    #expect(Tensor<Double>(scalar: 2.5).description == "Tensor<Double>(2.5, shape: [])")
    #expect(Tensor<Double>([1, -2.5, 3]).description == "Tensor<Double>([ 1.0, -2.5,  3.0], shape: [3])")
  }

  /// Columns are right-aligned to the widest element; rank-3 blocks are separated by a blank line.
  @Test func alignedColumnsAndBlankLinesBetweenBlocks() {
    let t = Tensor<Float>([1, -10, 100, 2, 0.5, 3, 4, 5], shape: [2, 2, 2])
    let expected = """
      Tensor<Float>([[[  1.0, -10.0],
                      [100.0,   2.0]],

                     [[  0.5,   3.0],
                      [  4.0,   5.0]]], shape: [2, 2, 2])
      """
    #expect(t.description == expected)
  }

  /// More than 1000 elements: the first and last three entries of each long axis.
  @Test func largeTensorsAreAbbreviated() {
    let t = Tensor<Float>.arange(0, 2000).reshaped([2, 1000])
    let expected = """
      Tensor<Float>([[   0.0,    1.0,    2.0, ...,  997.0,  998.0,  999.0],
                     [1000.0, 1001.0, 1002.0, ..., 1997.0, 1998.0, 1999.0]], shape: [2, 1000])
      """
    #expect(t.description == expected)
    let tall = Tensor<Double>.zeros([1001])
    #expect(tall.description == "Tensor<Double>([0.0, 0.0, 0.0, ..., 0.0, 0.0, 0.0], shape: [1001])")
    let rows = Tensor<Double>.zeros([100, 11]).description.split(separator: "\n")
    #expect(rows.count == 7)  // 3 rows, "...", 3 rows
    #expect(rows[3].drop(while: { $0 == " " }) == "...,")
  }

  @Test func requiresGradIsShown() {
    let t = Tensor<Double>([1], requiresGrad: true)
    #expect(t.description == "Tensor<Double>([1.0], shape: [1], requiresGrad: true)")
    #expect((t * 2).debugDescription.hasSuffix("(result of an op with 2 input(s), no grad)"))
  }

  @Test func emptyTensor() {
    #expect(Tensor<Float>.zeros([0]).description == "Tensor<Float>([], shape: [0])")
  }
}
