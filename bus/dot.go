package bus

import (
	"fmt"
	"sort"
	"strings"

	"github.com/drvsim/drvsim/trace"
)

// DOT renders the device hierarchy as a Graphviz digraph, the picture of
// /sys/devices that Tree prints as text (the kernel has no such view; the
// closest is walking /sys/devices with a tool). Every registered device is a
// node whose ID is its sysfs path (quoted) and whose label is its name, its
// bus and its driver; a device without a driver is drawn grey, a class
// device (no driver binds it) dashed, with its class and number. Node IDs
// are stable (the path, not an order number) and never collide: device_add
// refuses a second device at a sysfs path, a '/' in a device name is '!'
// (dev_set_name), and the quoting is injective (trace.Escape, then DOT's
// own escapes). Each
// parent->child relation is a solid edge; each device link is a dashed edge
// from the consumer to the supplier (the direction of Tree's "links"
// section), labelled with the link's flags. Nodes and edges come in
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
		fmt.Fprintf(&b, "\t%s [label=%s%s];\n", dotQuote(d.Path()), dotLabel(label), attrs)
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

// dotQuote renders s as a DOT double-quoted string on one line: control
// characters and the rest are escaped by trace.Escape, then DOT's own
// specials (the backslash, the quote) are escaped, so that the string shows
// what trace.Escape shows.
func dotQuote(s string) string { return `"` + dotEscape(s) + `"` }

// dotLabel renders lines as one DOT label, one line each (DOT's centred
// line break \n between them).
func dotLabel(lines []string) string {
	for i, l := range lines {
		lines[i] = dotEscape(l)
	}
	return `"` + strings.Join(lines, `\n`) + `"`
}

var dotReplacer = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

func dotEscape(s string) string { return dotReplacer.Replace(trace.Escape(s)) }
