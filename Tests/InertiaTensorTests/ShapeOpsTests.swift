import XCTest

@testable import InertiaTensor

final class ShapeOpsTests: XCTestCase {
    let x = Tensor(shape: [2, 3, 4], scalars: (0..<24).map(Float.init))

    func testCreation() {
        XCTAssertEqual(Tensor.arange(0, 5).scalars, [0, 1, 2, 3, 4])
        XCTAssertEqual(Tensor.arange(1, 2, step: 0.25).scalars, [1, 1.25, 1.5, 1.75])
        XCTAssertEqual(Tensor.arange(3, 0, step: -1).scalars, [3, 2, 1])
        XCTAssertEqual(Tensor.linspace(0, 1, count: 5).scalars, [0, 0.25, 0.5, 0.75, 1])
        XCTAssertEqual(Tensor.eye(2, 3).scalars, [1, 0, 0, 0, 1, 0])
        XCTAssertEqual(Tensor.full([2], 7).scalars, [7, 7])
        XCTAssertEqual(Tensor.zeros([0, 3]).count, 0)
        XCTAssertEqual(Tensor(3).item, 3)
        XCTAssertEqual(x[1, 2, 3], 23)
        XCTAssertEqual(x[-1, 0, -1], 15)
    }

    func testPermuteTransposeAndReshape() {
        let p = x.permuted([2, 0, 1])
        XCTAssertEqual(p.shape, [4, 2, 3])
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 { XCTAssertEqual(p[k, i, j], x[i, j, k]) } } }
        XCTAssertEqual(x.transposed().shape, [2, 4, 3])
        XCTAssertEqual(x.transposed()[1, 3, 2], x[1, 2, 3])
        XCTAssertEqual(x.reshaped(to: [-1, 6]).shape, [4, 6])
        XCTAssertEqual(x.unsqueezed(axis: -1).shape, [2, 3, 4, 1])
        XCTAssertEqual(x.unsqueezed(axis: 0).squeezed(axis: 0).shape, [2, 3, 4])
        XCTAssertEqual(x.flattened().scalars, x.scalars)
    }

    func testConcatStackSplitSlicePad() {
        let parts = x.split(sizes: [1, 3], alongAxis: 2)
        XCTAssertEqual(parts.map(\.shape), [[2, 3, 1], [2, 3, 3]])
        XCTAssertEqual(Tensor.concatenate(parts, alongAxis: 2).scalars, x.scalars)
        XCTAssertEqual(x.split(count: 3, alongAxis: 1)[1].scalars, x.slice(alongAxis: 1, 1..<2).scalars)
        XCTAssertEqual(x.slice(alongAxis: 1, 1..<2).scalars, [4, 5, 6, 7, 16, 17, 18, 19])
        let s = Tensor.stack([Tensor([1, 2]), Tensor([3, 4])], alongAxis: 1)
        XCTAssertEqual(s.shape, [2, 2])
        XCTAssertEqual(s.scalars, [1, 3, 2, 4])
        let padded = Tensor([[1, 2]]).padded([(1, 0), (0, 2)], value: 9)
        XCTAssertEqual(padded.shape, [2, 4])
        XCTAssertEqual(padded.scalars, [9, 9, 9, 9, 1, 2, 9, 9])
        XCTAssertEqual(Tensor([1, 2]).expanded(to: [2, 2]).scalars, [1, 2, 1, 2])
        XCTAssertEqual(Tensor([[1], [2]]).expanded(to: [2, 3]).scalars, [1, 1, 1, 2, 2, 2])
    }

    func testIndexing() {
        let m = Tensor([[1, 2, 3], [4, 5, 6]])
        XCTAssertEqual(m.indexSelect(alongAxis: 1, indices: [2, 0]).scalars, [3, 1, 6, 4])
        XCTAssertEqual(m.gather(alongAxis: 1, indices: IndexTensor(shape: [2, 1], indices: [2, 0])).scalars, [3, 4])
        let scattered = Tensor.zeros([2, 3]).scatterAdding(
            alongAxis: 1, indices: IndexTensor(shape: [2, 2], indices: [1, 1, 0, 2]),
            values: Tensor([[1, 2], [3, 4]]))
        XCTAssertEqual(scattered.scalars, [0, 3, 0, 3, 0, 4])
        XCTAssertEqual(Tensor.oneHot(IndexTensor([2, 0]), classes: 3).scalars, [0, 0, 1, 1, 0, 0])
        XCTAssertEqual(
            m.indexAdding(alongAxis: 0, indices: [1, 1], values: Tensor([[1, 1, 1], [1, 1, 1]])).scalars,
            [1, 2, 3, 6, 7, 8])
    }

    func testDescriptionIsReadable() {
        let d = Tensor([[1, 2.5], [3, 4]]).description
        XCTAssertTrue(d.contains("shape: [2, 2]"), d)
        XCTAssertTrue(d.contains("[[1, 2.5],\n [3, 4]]"), d)
        XCTAssertTrue(Tensor.arange(0, 100).description.contains("..."))
    }
}

/// The validators behind the ops' error messages (see `TensorError` for the policy).
final class TensorErrorTests: XCTestCase {
    func testMessagesNameTheShapesAndValues() {
        XCTAssertThrowsError(try Shape.broadcast([2, 3], [4, 3], op: "add")) { error in
            XCTAssertEqual(
                "\(error)", "add: shape mismatch: shapes [2, 3] and [4, 3] do not broadcast (dimension 0: 2 vs 4)")
        }
        XCTAssertThrowsError(try Shape.matmul([2, 3], [4, 5])) { error in
            XCTAssertEqual("\(error)", "matmul: shape mismatch: [2, 3] x [4, 5]: inner dimensions 3 and 4 differ")
        }
        XCTAssertThrowsError(try Shape.normalizedAxis(3, rank: 2, op: "sum")) { error in
            XCTAssertEqual("\(error)", "sum: axis 3 is out of range for a tensor of rank 2 (valid: -2..<2)")
        }
        XCTAssertThrowsError(try Shape.normalizedAxes([0, -2], rank: 2, op: "mean")) { error in
            XCTAssertTrue("\(error)".contains("given twice"))
        }
        XCTAssertThrowsError(try Shape.checkExpandable([3], to: [2, 4])) { error in
            XCTAssertTrue("\(error)".contains("cannot expand shape [3] to [2, 4]"))
        }
        XCTAssertThrowsError(try Tensor.checked(shape: [2, 2], scalars: [1, 2, 3])) { error in
            XCTAssertEqual(
                "\(error)", "Tensor.checked: shape mismatch: shape [2, 2] holds 4 elements but 3 scalars were given")
        }
        XCTAssertThrowsError(try Shape.validate([2, -1], op: "zeros"))
        XCTAssertNoThrow(try Shape.broadcast([2, 1, 3], [4, 1]))
    }

    func testNothingBroadcastsSilentlyWhenItShouldNot() {
        XCTAssertThrowsError(try Shape.broadcast([3], [4]))
        XCTAssertThrowsError(try Shape.broadcast([2, 3], [3, 2]))
        XCTAssertThrowsError(try Shape.matmul([3], [3, 2]))
    }
}
