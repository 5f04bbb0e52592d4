package of

import (
	"fmt"
)

// IRQParent is of_irq_find_parent: the node's interrupt parent, from its
// interrupt-parent phandle or else its parent, repeated until a node with
// #interrupt-cells; nil when there is none.
func (n *Node) IRQParent() *Node {
	child := n
	for range 256 { // bounded: a loop of interrupt-parent phandles ends here
		var p *Node
		if ph, err := child.ReadU32("interrupt-parent"); err == nil {
			p = n.tree.FindByPhandle(ph)
		} else {
			p = child.parent
		}
		if p == nil || p.Property("#interrupt-cells") != nil {
			return p
		}
		child = p
	}
	return nil
}

// ParseIRQ is of_irq_parse_one: entry index of the node's interrupts
// (with #interrupt-cells of the interrupt parent) or, when it has one, of
// its interrupts-extended. Errors: ErrInvalid without an interrupt parent
// or a readable specifier, ErrNoEntry past the end.
func (n *Node) ParseIRQ(index int) (PhandleArgs, error) {
	if n.Property("interrupts-extended") != nil {
		return n.ParsePhandleWithArgs("interrupts-extended", "#interrupt-cells", index)
	}
	cells, err := n.Cells("interrupts")
	if err != nil {
		return PhandleArgs{}, err
	}
	if cells == nil {
		return PhandleArgs{}, fmt.Errorf("of_irq_parse_one %s: no interrupts: %w", n.Path(), ErrInvalid)
	}
	parent := n.IRQParent()
	if parent == nil {
		return PhandleArgs{}, fmt.Errorf("of_irq_parse_one %s: no interrupt parent: %w", n.Path(), ErrInvalid)
	}
	ic, err := parent.ReadU32("#interrupt-cells")
	if err != nil || ic == 0 || ic > MaxPhandleArgs {
		return PhandleArgs{}, fmt.Errorf("of_irq_parse_one %s: bad #interrupt-cells in %s: %w", n.Path(), parent.Path(), ErrInvalid)
	}
	if (index+1)*int(ic) > len(cells) {
		return PhandleArgs{}, fmt.Errorf("of_irq_parse_one %s: no interrupt %d: %w", n.Path(), index, ErrNoEntry)
	}
	return PhandleArgs{Node: parent, Args: append([]uint32(nil), cells[index*int(ic):(index+1)*int(ic)]...)}, nil
}

// CountIRQs is of_irq_count: how many interrupts ParseIRQ finds.
func (n *Node) CountIRQs() int {
	i := 0
	for ; i < 64; i++ {
		if _, err := n.ParseIRQ(i); err != nil {
			break
		}
	}
	return i
}
