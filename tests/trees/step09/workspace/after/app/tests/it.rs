//! Still compares against tonic's codes.

#[test]
fn codes_line_up() {
    assert_eq!(tonic::Code::NotFound as i32, 5);
}
