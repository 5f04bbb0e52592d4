package of

import (
	"encoding/binary"
	"fmt"

	"github.com/drvsim/drvsim/of/dtc"
)

// MaxPhandleArgs is MAX_PHANDLE_ARGS: the most argument cells one phandle
// list entry may have.
const MaxPhandleArgs = 16

// ReadBool is of_property_read_bool: whether the property exists.
func (n *Node) ReadBool(name string) bool { return n.Property(name) != nil }

// ReadU32 is of_property_read_u32: the first cell of the property.
// Errors: ErrInvalid when it is absent, ErrNoData when it is empty,
// ErrOverflow when it is shorter than a cell.
func (n *Node) ReadU32(name string) (uint32, error) {
	v, err := n.ReadU32Array(name, 1)
	if err != nil {
		return 0, err
	}
	return v[0], nil
}

// ReadU32Array is of_property_read_u32_array: the first count cells, with
// ReadU32's errors.
func (n *Node) ReadU32Array(name string, count int) ([]uint32, error) {
	p := n.Property(name)
	switch {
	case p == nil:
		return nil, fmt.Errorf("of_property_read_u32 %s %s: no such property: %w", n.Path(), name, ErrInvalid)
	case len(p.Value) == 0:
		return nil, fmt.Errorf("of_property_read_u32 %s %s: no value: %w", n.Path(), name, ErrNoData)
	case len(p.Value) < 4*count:
		return nil, fmt.Errorf("of_property_read_u32 %s %s: %d bytes, %d cells wanted: %w", n.Path(), name, len(p.Value), count, ErrOverflow)
	}
	out := make([]uint32, count)
	for i := range out {
		out[i] = binary.BigEndian.Uint32(p.Value[4*i:])
	}
	return out, nil
}

// Cells returns every cell of the property (of_property_count_u32_elems
// cells), nil for an absent one; a length that is not a whole number of
// cells gives ErrInvalid.
func (n *Node) Cells(name string) ([]uint32, error) {
	p := n.Property(name)
	if p == nil {
		return nil, nil
	}
	if len(p.Value)%4 != 0 {
		return nil, fmt.Errorf("%s %s: %d bytes is not a whole number of cells: %w", n.Path(), name, len(p.Value), ErrInvalid)
	}
	out := make([]uint32, len(p.Value)/4)
	for i := range out {
		out[i] = binary.BigEndian.Uint32(p.Value[4*i:])
	}
	return out, nil
}

// ReadString is of_property_read_string: the first string of the
// property. Errors: ErrInvalid when absent, ErrNoData when it is not a
// NUL-terminated string.
func (n *Node) ReadString(name string) (string, error) {
	list, err := n.ReadStrings(name)
	if err != nil {
		return "", err
	}
	return list[0], nil
}

// ReadStrings is of_property_read_string_array: every string of a string
// list property, with ReadString's errors.
func (n *Node) ReadStrings(name string) ([]string, error) {
	p := n.Property(name)
	if p == nil {
		return nil, fmt.Errorf("of_property_read_string %s %s: no such property: %w", n.Path(), name, ErrInvalid)
	}
	list, ok := dtc.StringList(p.Value)
	if !ok {
		return nil, fmt.Errorf("of_property_read_string %s %s: not a string list: %w", n.Path(), name, ErrNoData)
	}
	return list, nil
}

// PhandleArgs is struct of_phandle_args: the node an entry of a phandle
// list points to, and the entry's argument cells.
type PhandleArgs struct {
	Node *Node
	Args []uint32
}

// ParsePhandleWithArgs is of_parse_phandle_with_args: entry index of the
// phandle list property listName, each entry a phandle followed by as
// many cells as the target's cellsName property says ("#clock-cells");
// with cellsName "" every entry is a bare phandle. Errors: ErrNoEntry for
// an index past the end or an empty (zero) entry; ErrInvalid for an
// absent property, a phandle to no node, a target without cellsName, or a
// list cut short.
func (n *Node) ParsePhandleWithArgs(listName, cellsName string, index int) (PhandleArgs, error) {
	entries, err := n.phandleList(listName, cellsName, index+1)
	if err != nil {
		return PhandleArgs{}, err
	}
	if index >= len(entries) {
		return PhandleArgs{}, fmt.Errorf("of_parse_phandle_with_args %s %s: no entry %d: %w", n.Path(), listName, index, ErrNoEntry)
	}
	e := entries[index]
	if e.Node == nil {
		return PhandleArgs{}, fmt.Errorf("of_parse_phandle_with_args %s %s: entry %d is empty: %w", n.Path(), listName, index, ErrNoEntry)
	}
	return e, nil
}

// CountPhandleWithArgs is of_count_phandle_with_args: the number of
// entries of the list (empty ones included).
func (n *Node) CountPhandleWithArgs(listName, cellsName string) (int, error) {
	entries, err := n.phandleList(listName, cellsName, -1)
	return len(entries), err
}

// ParsePhandle is of_parse_phandle: the node entry index of a list of
// bare phandles points to, or nil.
func (n *Node) ParsePhandle(name string, index int) *Node {
	a, err := n.ParsePhandleWithArgs(name, "", index)
	if err != nil {
		return nil
	}
	return a.Node
}

// phandleList walks the list up to limit entries (all with -1)
// (__of_parse_phandle_with_args and of_phandle_iterator_next).
func (n *Node) phandleList(listName, cellsName string, limit int) ([]PhandleArgs, error) {
	cells, err := n.Cells(listName)
	if err != nil {
		return nil, err
	}
	if n.Property(listName) == nil {
		return nil, fmt.Errorf("of_parse_phandle_with_args %s: no property %s: %w", n.Path(), listName, ErrInvalid)
	}
	var out []PhandleArgs
	for i := 0; i < len(cells) && (limit < 0 || len(out) < limit); {
		ph := cells[i]
		i++
		if ph == 0 {
			out = append(out, PhandleArgs{})
			continue
		}
		target := n.tree.FindByPhandle(ph)
		if target == nil {
			return out, fmt.Errorf("%s: %s: could not find phandle %d: %w", n.Path(), listName, ph, ErrInvalid)
		}
		count := uint32(0)
		if cellsName != "" {
			c, err := target.ReadU32(cellsName)
			if err != nil {
				return out, fmt.Errorf("%s: could not get %s for %s: %w", n.Path(), cellsName, target.Path(), ErrInvalid)
			}
			count = c
		}
		if count > MaxPhandleArgs || i+int(count) > len(cells) {
			return out, fmt.Errorf("%s: %s: arguments longer than the property (%d cells for %s): %w", n.Path(), listName, count, target.Path(), ErrInvalid)
		}
		out = append(out, PhandleArgs{Node: target, Args: append([]uint32(nil), cells[i:i+int(count)]...)})
		i += int(count)
	}
	return out, nil
}

// Available is of_device_is_available: true when the node has no status
// property, or its status is exactly "okay" or "ok".
func (n *Node) Available() bool {
	p := n.Property("status")
	return p == nil || statusOkay(p.Value)
}

// statusOkay reports a status value whose first string is "okay" or "ok".
func statusOkay(v []byte) bool {
	s, ok := dtc.StringList(v)
	return ok && (s[0] == "okay" || s[0] == "ok")
}
