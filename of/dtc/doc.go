// Package dtc reads device-tree source (DTS), the subset of dtc's language
// (scripts/dtc: dtc-lexer.l, dtc-parser.y, livetree.c, checks.c) that a
// board description for drvsim needs, and gives the tree it describes:
// nodes with their labels, properties with their values as dtc would lay
// them out in a blob (big-endian cells, NUL-terminated strings), and every
// phandle reference resolved, or, in an overlay, kept as a fixup.
//
// # The subset
//
//	/dts-v1/;                       required first, as dtc requires it
//	/plugin/;                       an overlay (see below)
//	/ { ... };                      the root node; a second / { } merges
//	&label { ... };                 merge into a labelled node
//	&{/path/to/node} { ... };       merge into a node by path
//	/delete-node/ &label;           at top level
//	label: name@unit { ... };       a node, with labels and a unit address
//	name;                           an empty (boolean) property
//	name = "a", "b";                a string list
//	name = <1 0x2 (3 + 4) &label>;  32-bit cells; &label is the target's phandle
//	name = /bits/ 8 <1 2>;          8-, 16-, 32- or 64-bit elements
//	name = [0a 1b 2c];              bytes
//	name = &label;                  the target's full path, as a string
//	/delete-property/ name;         inside a node
//	/delete-node/ name;             inside a node
//	// and /* */ comments
//
// Expressions in parentheses take integers, character literals, unary
// - ~ !, and the binary operators * / % + - << >> < <= > >= == != & ^ |
// && || and ?:, with C's precedence. Preprocessor lines (#include,
// #define) are refused: run cpp first, as the kernel's build does.
// /memreserve/, /incbin/ and /include/ are refused too.
//
// # Checks
//
// The tree is refused, with an Error naming the file, line and column,
// for everything dtc refuses (a syntax error, "Properties must precede
// subnodes", a duplicate node or property name in one body, a duplicate
// label, a reference to no node, a bad or duplicated phandle, a value out
// of range for its element size) and, because drvsim reads reg itself,
// for a reg whose parent does not say #address-cells and #size-cells or
// whose length is not a whole number of entries (dtc only warns).
//
// # Overlays
//
// A source with /plugin/ is an overlay: each top-level `&label { }` or
// `&{/path} { }` becomes a node fragment@N of its root with a `target`
// (a phandle cell referring to the label, left as a fixup) or a
// `target-path`, and the body as its child __overlay__, as dtc -@ writes
// it. References to labels the overlay does not define stay fixups
// (Ref.Target nil), for the base tree to resolve when the overlay is
// applied (of_resolve_phandles).
//
// # Bounds
//
// Every input is bounded: MaxSourceSize bytes of source, MaxDepth levels
// of nodes, MaxNodes nodes, MaxProperties properties, MaxValueSize bytes
// per value; more is refused with ErrFileTooBig.
package dtc
