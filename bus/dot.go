package bus

import (
	"fmt"
	"sort"
	"strings"
)

// DOT renders the device hierarchy as a Graphviz digraph, the picture of
// /sys/devices that Tree prints as text (the kernel has no such view; the
// closest is walking /sys/devices with a tool). Every registered device is a
// node whose ID is its sysfs path (quoted) and whose label is its name, its
// bus and its driver; a device without a driver is drawn grey, a class
// device (no driver binds it) dashed, with its class and number. Each
// parent->child relation is a solid edge; each device link is a dashed edge
// from the consumer to the supplier (the direction of Tree's "links"
// section), labelled with the link's flags. A device made from a firmware
// node names it (of_node=...). Nodes and edges come in
// registration order, so the output is deterministic.
//
// Render it with `dot -Tsvg`.
func (c *Core) DOT() string {
	c.mu.Lock()
	all := c.devices.values()
	c.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return all[i].seq < all[j].seq })

	var b strings.Builder
	b.WriteString("digraph devices {\n")
	b.WriteString("\trankdir=TB;\n")
	b.WriteString("\tnode [shape=box, style=rounded, fontname=\"monospace\"];\n")
	for _, p := range all {
		d := p.dev
		label := []string{d.Name()}
		if bn := d.BusName(); bn != "" {
			label = append(label, "bus="+bn)
		}
		attrs := ""
		switch cn := d.ClassName(); {
		case cn != "": // a class device: no driver binds it
			label = append(label, "class="+cn)
			if n := d.Devt(); n != 0 {
				label = append(label, "dev="+n.String())
			}
			attrs = ", style=\"rounded,dashed\""
		case d.DriverName() != "":
			label = append(label, "driver="+d.DriverName())
		default:
			label = append(label, "no driver")
			attrs = ", color=grey, fontcolor=grey"
		}
		if fw := d.Fwnode(); fw != nil {
			label = append(label, "of_node="+fw.String())
		}
		fmt.Fprintf(&b, "\t%s [label=%s%s];\n", dotQuote(d.Path()), dotQuote(strings.Join(label, "\n")), attrs)
	}
	for _, p := range all {
		d := p.dev
		if par := d.Parent(); par != nil && c.devPrivOf(par) != nil {
			fmt.Fprintf(&b, "\t%s -> %s;\n", dotQuote(par.Path()), dotQuote(d.Path()))
		}
	}
	for _, p := range all {
		for _, l := range p.dev.Suppliers() {
			fmt.Fprintf(&b, "\t%s -> %s [style=dashed, constraint=false, label=%s];\n",
				dotQuote(l.Consumer.Path()), dotQuote(l.Supplier.Path()), dotQuote(l.Flags.String()))
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// dotQuote renders s as a DOT double-quoted string: quotes and backslashes
// are escaped, and a newline becomes DOT's centred line break \n.
func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
