package dtc

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// Format writes the tree back as DTS source, as dtc -O dts does: the
// header, then the root with every node and property. A value is shown as
// cells when it holds references or is a whole number of cells and not a
// string list, as strings when it is a string list, and as bytes
// otherwise; references are written as they were (&label, &{/path}).
// Parsing the output gives a tree that formats the same.
func Format(t *Tree) string {
	var b strings.Builder
	b.WriteString("/dts-v1/;\n")
	if t.Plugin {
		b.WriteString("/plugin/;\n")
	}
	b.WriteString("\n")
	formatNode(&b, t.Root, 0)
	return b.String()
}

func formatNode(b *strings.Builder, n *Node, depth int) {
	ind := strings.Repeat("\t", depth)
	b.WriteString(ind)
	for _, l := range n.Labels {
		b.WriteString(l + ": ")
	}
	if n.Parent == nil {
		b.WriteString("/")
	} else {
		b.WriteString(n.Name)
	}
	b.WriteString(" {\n")
	for _, p := range n.Props {
		b.WriteString(ind + "\t" + p.Name)
		if len(p.Value) > 0 {
			b.WriteString(" = " + FormatValue(p.Value, p.Refs))
		}
		b.WriteString(";\n")
	}
	for i, c := range n.Children {
		if i > 0 || len(n.Props) > 0 {
			b.WriteString("\n")
		}
		formatNode(b, c, depth+1)
	}
	b.WriteString(ind + "};\n")
}

// FormatValue renders a property value as DTS: <cells>, "strings" or
// [bytes], with refs (phandle cells at their offsets) as &label or
// &{/path}. Like dtc, it shows a value as strings when it is a list of
// printable NUL-terminated strings with no more NULs than characters.
func FormatValue(v []byte, refs []Ref) string {
	if len(refs) == 0 && looksLikeStrings(v) {
		if list, ok := StringList(v); ok {
			q := make([]string, len(list))
			for i, s := range list {
				q[i] = quote(s)
			}
			return strings.Join(q, ", ")
		}
	}
	if len(v)%4 == 0 && len(v) > 0 {
		at := map[int]Ref{}
		for _, r := range refs {
			at[r.Offset] = r
		}
		cells := make([]string, 0, len(v)/4)
		for off := 0; off < len(v); off += 4 {
			if r, ok := at[off]; ok {
				cells = append(cells, r.String())
				continue
			}
			cells = append(cells, fmt.Sprintf("0x%x", binary.BigEndian.Uint32(v[off:])))
		}
		return "<" + strings.Join(cells, " ") + ">"
	}
	hex := make([]string, len(v))
	for i, c := range v {
		hex[i] = hex2(c)
	}
	return "[" + strings.Join(hex, " ") + "]"
}

// looksLikeStrings is dtc's guess for a value to show as strings: no more
// NULs than other bytes (so <0> is not four empty strings).
func looksLikeStrings(v []byte) bool {
	nul := 0
	for _, c := range v {
		if c == 0 {
			nul++
		}
	}
	return nul <= len(v)-nul
}

// quote writes s as a DTS string (s holds printable ASCII only).
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
