// Package repocheck holds no code, only tests of the repository as a
// whole: the licence (LICENSE, and no per-file headers) and the shape of
// the test helpers. The checks read the files; they build nothing.
package repocheck
