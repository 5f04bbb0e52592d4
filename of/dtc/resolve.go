package dtc

import (
	"encoding/binary"
	"slices"
)

// resolve is what dtc -@ does between parsing and writing the blob:
// explicit phandles checked (check_explicit_phandles), values laid out with
// every reference resolved and phandles assigned to the nodes referred to
// (fixup_phandle_references, fixup_path_references), then a phandle for
// every labelled node (generate_label_tree: the __symbols__ an overlay
// resolves its references with need them), then the reg checks.
func (p *parser) resolve() {
	root := p.tree.Root
	byPhandle := map[uint32]*Node{}
	walk(root, func(n *Node) {
		for _, name := range []string{"phandle", "linux,phandle"} {
			prop := n.Prop(name)
			if prop == nil {
				continue
			}
			if len(prop.parts) != 1 || prop.parts[0].pathRef != nil || len(prop.parts[0].cellRefs) > 0 || len(prop.parts[0].data) != 4 {
				p.fail(p.errorf(prop.Pos, "%s: %s must be one cell, <N>", n.Path(), name))
			}
			v := binary.BigEndian.Uint32(prop.parts[0].data)
			if v == 0 || v == 0xffffffff {
				p.fail(p.errorf(prop.Pos, "%s: bad value (0x%x) in %s property", n.Path(), v, name))
			}
			if n.Phandle != 0 && n.Phandle != v {
				p.fail(p.errorf(prop.Pos, "%s: %s property value (0x%x) does not match phandle (0x%x)", n.Path(), name, v, n.Phandle))
			}
			if other := byPhandle[v]; other != nil && other != n {
				p.fail(p.errorf(prop.Pos, "%s: duplicated phandle 0x%x (seen before at %s)", n.Path(), v, other.Path()))
			}
			n.Phandle = v
			byPhandle[v] = n
		}
	})
	next := uint32(1)
	assign := func(n *Node) uint32 {
		if n.Phandle == 0 {
			for byPhandle[next] != nil {
				next++
			}
			n.Phandle = next
			byPhandle[next] = n
			n.Props = append(n.Props, &Property{Name: "phandle", Value: binary.BigEndian.AppendUint32(nil, next), Pos: n.Pos})
		}
		return n.Phandle
	}
	walk(root, func(n *Node) {
		for _, prop := range slices.Clone(n.Props) {
			if prop.parts == nil {
				continue
			}
			var v []byte
			var refs []Ref
			for _, pt := range prop.parts {
				if r := pt.pathRef; r != nil {
					target := p.lookupRef(*r)
					if target == nil {
						p.fail(p.errorf(r.Pos, "%s: Reference to non-existent node or label \"%s\"", n.Path(), refName(*r)))
					}
					v = append(append(v, target.Path()...), 0)
					continue
				}
				base := len(v)
				v = append(v, pt.data...)
				for _, r := range pt.cellRefs {
					r.Offset += base
					target := p.lookupRef(r)
					if target == nil && !(p.tree.Plugin && r.Label != "") {
						p.fail(p.errorf(r.Pos, "%s: Reference to non-existent node or label \"%s\"", n.Path(), refName(r)))
					}
					if target != nil {
						r.Target = target
						binary.BigEndian.PutUint32(v[r.Offset:], assign(target))
					}
					refs = append(refs, r)
				}
			}
			if len(v) > MaxValueSize {
				p.fail(p.tooBig(prop.Pos, "property value longer than %d bytes", MaxValueSize))
			}
			prop.Value, prop.Refs, prop.parts = v, refs, nil
		}
	})
	// dtc -@ (the symbols overlays resolve against): every labelled
	// node gets a phandle too.
	walk(root, func(n *Node) {
		if len(n.Labels) > 0 {
			assign(n)
		}
	})
	walk(root, func(n *Node) {
		if prop := n.Prop("reg"); prop != nil && n.Parent != nil {
			p.checkReg(n, prop)
		}
	})
}

// walk calls fn for n and its descendants, parents first, in order.
func walk(n *Node, fn func(*Node)) {
	fn(n)
	for _, c := range n.Children {
		walk(c, fn)
	}
}

// checkReg checks a reg property against its parent's #address-cells and
// #size-cells (dtc's reg_format check, an error here). An overlay node
// whose parent is in the base tree (a fragment's __overlay__) is left to
// the overlay's application.
func (p *parser) checkReg(n *Node, prop *Property) {
	par := n.Parent
	if par.Name == "__overlay__" {
		return
	}
	a, aok := p.cellsProp(par, "#address-cells")
	s, sok := p.cellsProp(par, "#size-cells")
	switch {
	case !aok:
		p.fail(p.errorf(prop.Pos, "%s: reg: the parent %s has no #address-cells (dtc would assume 2 and warn; say it)", n.Path(), par.Path()))
	case !sok:
		p.fail(p.errorf(prop.Pos, "%s: reg: the parent %s has no #size-cells (dtc would assume 1 and warn; say it)", n.Path(), par.Path()))
	}
	entry := 4 * int(a+s)
	if len(prop.Value) == 0 || entry == 0 || len(prop.Value)%entry != 0 {
		p.fail(p.errorf(prop.Pos, "%s: reg_format: property has invalid length (%d bytes) (#address-cells == %d, #size-cells == %d)", n.Path(), len(prop.Value), a, s))
	}
}

// cellsProp reads a #...-cells property of n: one cell, at most 4 (the
// kernel's OF_MAX_ADDR_CELLS).
func (p *parser) cellsProp(n *Node, name string) (uint32, bool) {
	prop := n.Prop(name)
	if prop == nil {
		return 0, false
	}
	if len(prop.Value) != 4 {
		p.fail(p.errorf(prop.Pos, "%s: %s must be one cell, <N>", n.Path(), name))
	}
	v := binary.BigEndian.Uint32(prop.Value)
	if v > 4 {
		p.fail(p.errorf(prop.Pos, "%s: %s = <%d> is more than 4", n.Path(), name, v))
	}
	return v, true
}
