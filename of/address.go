package of

import (
	"fmt"
)

// BadAddr is OF_BAD_ADDR: an address that does not translate.
const BadAddr = ^uint64(0)

// addrCells is of_n_addr_cells and of_n_size_cells for the children of
// n: its #address-cells and #size-cells, 2 and 1 when absent (the
// kernel's defaults; package dtc refuses a reg that relies on them).
func (n *Node) addrCells() (a, s uint32) {
	a, s = 2, 1
	if v, err := n.ReadU32("#address-cells"); err == nil {
		a = v
	}
	if v, err := n.ReadU32("#size-cells"); err == nil {
		s = v
	}
	return a, s
}

// cellsValue reads count cells at off as one number (of_read_number).
func cellsValue(c []uint32, off, count int) uint64 {
	var v uint64
	for i := 0; i < count; i++ {
		v = v<<32 | uint64(c[off+i])
	}
	return v
}

// Resource is a memory range of a device (struct resource of type
// IORESOURCE_MEM): [Start, Start+Size).
type Resource struct {
	Start, Size uint64
}

// String renders the range as the kernel's %pR does: [mem 0x..-0x..].
func (r Resource) String() string {
	return fmt.Sprintf("[mem %#08x-%#08x]", r.Start, r.Start+r.Size-1)
}

// Reg returns the node's reg entries as (address, size) pairs in the
// parent's address space, untranslated (of_get_address).
func (n *Node) Reg() ([]Resource, error) {
	if n.parent == nil {
		return nil, nil
	}
	cells, err := n.Cells("reg")
	if err != nil || cells == nil {
		return nil, err
	}
	a, s := n.parent.addrCells()
	per := int(a + s)
	if per == 0 || len(cells)%per != 0 || a > 2 || s > 2 {
		return nil, fmt.Errorf("%s: reg of %d cells with #address-cells %d, #size-cells %d: %w", n.Path(), len(cells), a, s, ErrInvalid)
	}
	var out []Resource
	for i := 0; i < len(cells); i += per {
		out = append(out, Resource{Start: cellsValue(cells, i, int(a)), Size: cellsValue(cells, i+int(a), int(s))})
	}
	return out, nil
}

// TranslateAddress is of_translate_address: addr, an address in the space
// of n's parent bus, as a CPU address, going up through every bus's
// ranges: an empty ranges maps one to one, a bus without ranges does not
// translate (BadAddr), and neither does an address outside every range.
func (n *Node) TranslateAddress(addr uint64) uint64 {
	bus := n.parent
	for bus != nil && bus.parent != nil {
		p := bus.Property("ranges")
		if p == nil {
			return BadAddr
		}
		if len(p.Value) == 0 {
			bus = bus.parent
			continue
		}
		cells, err := bus.Cells("ranges")
		if err != nil {
			return BadAddr
		}
		ca, cs := bus.addrCells()
		pa, _ := bus.parent.addrCells()
		per := int(ca + pa + cs)
		if ca > 2 || pa > 2 || cs > 2 || per == 0 || len(cells)%per != 0 {
			return BadAddr
		}
		found := false
		for i := 0; i < len(cells); i += per {
			child := cellsValue(cells, i, int(ca))
			parent := cellsValue(cells, i+int(ca), int(pa))
			size := cellsValue(cells, i+int(ca+pa), int(cs))
			if addr >= child && addr-child < size {
				addr = parent + (addr - child)
				found = true
				break
			}
		}
		if !found {
			return BadAddr
		}
		bus = bus.parent
	}
	return addr
}

// Resources returns the node's reg entries translated to CPU addresses
// (of_address_to_resource for each index); an entry that does not
// translate ends the list, as of_device_alloc's count does.
func (n *Node) Resources() []Resource {
	regs, err := n.Reg()
	if err != nil {
		return nil
	}
	var out []Resource
	for _, r := range regs {
		a := n.TranslateAddress(r.Start)
		if a == BadAddr {
			break
		}
		out = append(out, Resource{Start: a, Size: r.Size})
	}
	return out
}

// DeviceName is of_device_make_bus_id: the name of the device made for
// the node. Walking up from the node, the first translatable reg gives
// "<address in hex>.<name without unit>" as the leading part; until then
// each node's name is prepended with ':' ("10001000.i2c:sensor@48",
// "soc:leds").
func (n *Node) DeviceName() string {
	name := ""
	for node := n; node.parent != nil; node = node.parent {
		if regs, err := node.Reg(); err == nil && len(regs) > 0 {
			if addr := node.TranslateAddress(regs[0].Start); addr != BadAddr {
				lead := fmt.Sprintf("%x.%s", addr, node.BaseName())
				if name == "" {
					return lead
				}
				return lead + ":" + name
			}
		}
		if name == "" {
			name = node.name
		} else {
			name = node.name + ":" + name
		}
	}
	return name
}
