package dtc_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/of/dtc"
)

// badSources are refused sources and the message each gives, with its
// line and column: every error names where it is.
var badSources = []struct {
	name, src, want string
}{
	{"no header", "/ { };", "bad.dts:1:1: syntax error: the source must start with /dts-v1/;"},
	{"header without semicolon", "/dts-v1/\n/ { };", "bad.dts:2:1: syntax error: expected ';' after /dts-v1/, found '/'"},
	{"memreserve", "/dts-v1/;\n/memreserve/ 0 1;", "bad.dts:2:1: /memreserve/ is not supported"},
	{"cpp include", "#include <dt-bindings/gpio/gpio.h>\n/dts-v1/;", "bad.dts:1:1: preprocessor directive #include: run the C preprocessor first"},
	{"cpp define inside", "/dts-v1/;\n/ {\n  #define X 1\n};", "bad.dts:3:3: preprocessor directive #define"},
	{"unterminated comment", "/dts-v1/;\n/* never closed\n/ { };", "bad.dts:2:1: unterminated comment"},
	{"junk at top", "/dts-v1/;\nfoo { };", "bad.dts:2:1: syntax error: expected '/ {', '&label {' or /delete-node/ at top level, found 'f'"},
	{"missing semicolon after node", "/dts-v1/;\n/ { a { } };", "bad.dts:2:11: syntax error: expected ';' after the node's '}', found '}'"},
	{"unclosed node", "/dts-v1/;\n/ {\n  a = <1>;\n", "bad.dts:4:1: syntax error: end of file inside the node opened at 2:3"},
	{"missing value", "/dts-v1/;\n/ { a = ; };", "bad.dts:2:9: syntax error: expected a value"},
	{"missing semicolon after property", "/dts-v1/;\n/ {\n\ta = <1>\n\tb;\n};", "bad.dts:4:2: syntax error: expected ';' after the property, found 'b'"},
	{"property after subnode", "/dts-v1/;\n/ {\n\tn { };\n\tp = <1>;\n};", "bad.dts:4:2: Properties must precede subnodes (property p after a subnode of /)"},
	{"duplicate node", "/dts-v1/;\n/ {\n\tn { };\n\tn { };\n};", "bad.dts:4:2: Duplicate node name n in /"},
	{"duplicate property", "/dts-v1/;\n/ {\n\tp;\n\tp = <2>;\n};", "bad.dts:4:2: Duplicate property name p in /"},
	{"duplicate label", "/dts-v1/;\n/ {\n\tl: a { };\n\tl: b { };\n};", "bad.dts:4:2: Duplicate label 'l' on /b and /a"},
	{"bad node character", "/dts-v1/;\n/ { ab#c { }; };", "bad.dts:2:7: Bad character '#' in node name ab#c"},
	{"two @", "/dts-v1/;\n/ { a@1@2 { }; };", "bad.dts:2:5: multiple '@' characters in node name a@1@2"},
	{"bad property character", "/dts-v1/;\n/ { p@1; };", "bad.dts:2:6: Bad character '@' in property name p@1"},
	{"unknown label", "/dts-v1/;\n/ {\n\tclocks = <&osc 0>;\n};", "bad.dts:3:12: /: Reference to non-existent node or label \"osc\""},
	{"unknown path", "/dts-v1/;\n/ { p = &{/nowhere}; };", "bad.dts:2:9: /: Reference to non-existent node or label \"/nowhere\""},
	{"unknown merge target", "/dts-v1/;\n/ { };\n&nolabel { };", "bad.dts:3:1: Label or path nolabel not found"},
	{"bad phandle", "/dts-v1/;\n/ { n { phandle = <0>; }; };", "bad.dts:2:9: /n: bad value (0x0) in phandle property"},
	{"duplicated phandle", "/dts-v1/;\n/ {\n\ta { phandle = <7>; };\n\tb { phandle = <7>; };\n};", "bad.dts:4:6: /b: duplicated phandle 0x7 (seen before at /a)"},
	{"bits size", "/dts-v1/;\n/ { p = /bits/ 12 <1>; };", "bad.dts:2:16: Array elements must be 8, 16, 32 or 64-bits"},
	{"out of range", "/dts-v1/;\n/ { p = /bits/ 8 <256>; };", "bad.dts:2:19: Value 0x100 out of range for 8-bit array element"},
	{"reference in 16-bit cells", "/dts-v1/;\n/ { p = /bits/ 16 <&l>; l: n { }; };", "bad.dts:2:20: References are only allowed in arrays with 32-bit elements."},
	{"division by zero", "/dts-v1/;\n/ { p = <(1 / 0)>; };", "bad.dts:2:13: Division by zero"},
	{"bad literal", "/dts-v1/;\n/ { p = <12z>; };", "bad.dts:2:10: syntax error: bad integer literal 12z"},
	{"literal too large", "/dts-v1/;\n/ { p = /bits/ 64 <0x10000000000000000>; };", "bad.dts:2:20: Integer literal '0x10000000000000000' out of range"},
	{"odd bytes", "/dts-v1/;\n/ { p = [0a b]; };", "bad.dts:2:13: syntax error: a byte string holds pairs of hex digits"},
	{"unterminated string", "/dts-v1/;\n/ { p = \"abc; };", "bad.dts:2:9: unterminated string"},
	{"unterminated cells", "/dts-v1/;\n/ { p = <1 2", "bad.dts:2:9: syntax error: end of file inside the cell list opened here"},
	{"reg without cells", "/dts-v1/;\n/ {\n\tn@1 { reg = <1>; };\n};", "bad.dts:3:8: /n@1: reg: the parent / has no #address-cells"},
	{"reg bad length", "/dts-v1/;\n/ {\n\t#address-cells = <1>;\n\t#size-cells = <1>;\n\tn@1 { reg = <1>; };\n};", "bad.dts:5:8: /n@1: reg_format: property has invalid length (4 bytes) (#address-cells == 1, #size-cells == 1)"},
	{"delete-node in overlay", "/dts-v1/;\n/plugin/;\n/delete-node/ &x;", "bad.dts:3:1: /delete-node/ is not supported in an overlay"},
	{"ampersand without label", "/dts-v1/;\n/ { p = <& 1>; };", "bad.dts:2:11: syntax error: expected a label or {/path} after '&', found ' '"},
	{"relative path reference", "/dts-v1/;\n/ { p = &{n}; };", "bad.dts:2:9: a path reference must be a full path, starting with /: &{n}"},
}

// Every refused source gives an *Error naming file, line and column, that
// matches device.ErrInvalid.
func TestParseErrors(t *testing.T) {
	for _, tc := range badSources {
		t.Run(tc.name, func(t *testing.T) {
			tree, err := dtc.Parse("bad.dts", []byte(tc.src))
			require.Error(t, err)
			assert.Nil(t, tree)
			assert.True(t, strings.HasPrefix(err.Error(), tc.want), "got  %s\nwant %s...", err, tc.want)
			var e *dtc.Error
			require.True(t, errors.As(err, &e))
			assert.GreaterOrEqual(t, e.Pos.Line, 1)
			assert.ErrorIs(t, err, device.ErrInvalid)
		})
	}
}

// Inputs beyond the bounds are refused with ErrFileTooBig, before they
// cost more than their size.
func TestParseBounds(t *testing.T) {
	big := make([]byte, dtc.MaxSourceSize+1)
	_, err := dtc.Parse("big.dts", big)
	assert.ErrorIs(t, err, device.ErrFileTooBig)
	assert.EqualError(t, err, "big.dts:1:1: source is 1048577 bytes, more than the 1048576 accepted")

	deep := "/dts-v1/;\n/ {" + strings.Repeat(" a {", dtc.MaxDepth) + strings.Repeat(" };", dtc.MaxDepth) + " };"
	_, err = dtc.Parse("deep.dts", []byte(deep))
	assert.ErrorIs(t, err, device.ErrFileTooBig)
	assert.Contains(t, err.Error(), "nodes nested more than 64 deep")

	ok := "/dts-v1/;\n/ {" + strings.Repeat(" a {", dtc.MaxDepth-1) + strings.Repeat(" };", dtc.MaxDepth-1) + " };"
	_, err = dtc.Parse("ok.dts", []byte(ok))
	assert.NoError(t, err)

	expr := "/dts-v1/;\n/ { p = <" + strings.Repeat("(", 100) + "1" + strings.Repeat(")", 100) + ">; };"
	_, err = dtc.Parse("expr.dts", []byte(expr))
	assert.ErrorIs(t, err, device.ErrFileTooBig)

	long := "/dts-v1/;\n/ { p = [" + strings.Repeat("00", dtc.MaxValueSize+1) + "]; };"
	_, err = dtc.Parse("long.dts", []byte(long))
	assert.ErrorIs(t, err, device.ErrFileTooBig)
}
