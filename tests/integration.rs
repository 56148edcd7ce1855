//! Integration tests of the board, compiled as one binary.
