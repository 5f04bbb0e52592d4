package of

import (
	"strings"

	"github.com/drvsim/drvsim/device"
)

// binding is one supplier binding of of_supplier_bindings
// (drivers/of/property.c): the properties it recognises and how their
// entries name a supplier.
type binding struct {
	// name matches a property by its whole name; suffix by its end.
	name, suffix string
	// cells is the supplier's #...-cells property ("" for bare phandles).
	cells string
	// irq: the entries are interrupts, the supplier their parent.
	irq bool
}

// bindings are the supplier bindings drvsim knows, in the kernel's order
// (the first binding that recognises a property decides). Those the
// kernel marks optional (iommus, iommu-map, dmas), which count only with
// fw_devlink.strict, are left out.
var bindings = []binding{
	{name: "clocks", cells: "#clock-cells"},
	{name: "interconnects", cells: "#interconnect-cells"},
	{name: "mboxes", cells: "#mbox-cells"},
	{name: "io-channels", cells: "#io-channel-cells"},
	{name: "io-backends", cells: "#io-backend-cells"},
	{name: "interrupt-parent"},
	{name: "power-domains", cells: "#power-domain-cells"},
	{name: "hwlocks", cells: "#hwlock-cells"},
	{name: "extcon"},
	{name: "nvmem-cells"},
	{name: "phys", cells: "#phy-cells"},
	{name: "wakeup-parent"},
	{name: "pinctrl-0"}, {name: "pinctrl-1"}, {name: "pinctrl-2"}, {name: "pinctrl-3"}, {name: "pinctrl-4"},
	{name: "pinctrl-5"}, {name: "pinctrl-6"}, {name: "pinctrl-7"}, {name: "pinctrl-8"},
	{name: "pwms", cells: "#pwm-cells"},
	{name: "resets", cells: "#reset-cells"},
	{name: "leds"},
	{name: "backlight"},
	{name: "panel"},
	{name: "msi-parent", cells: "#msi-cells"},
	{name: "power-supplies"},
	{name: "gpio", cells: "#gpio-cells"}, {name: "gpios", cells: "#gpio-cells"},
	{name: "interrupts", irq: true}, {name: "interrupts-extended", irq: true},
	{suffix: "-supply"},
	{suffix: "-gpio", cells: "#gpio-cells"},
	{suffix: "-gpios", cells: "#gpio-cells"},
}

// match reports whether the binding recognises the property.
func (b binding) match(prop string) bool {
	if b.name != "" {
		return prop == b.name
	}
	if b.suffix == "-gpios" && strings.HasSuffix(prop, ",nr-gpios") {
		return false
	}
	return strings.HasSuffix(prop, b.suffix) && len(prop) > len(b.suffix)
}

// Suppliers returns the nodes the node's properties name as suppliers, in
// property order, each once (of_link_property over every property, with
// of_link_to_phandle's check: a supplier that is not available, or below
// an unavailable node before one with a device, is left out, so a disabled
// supplier never holds a consumer back).
func (n *Node) Suppliers() []*Node {
	var out []*Node
	seen := map[*Node]bool{}
	n.addLinks(func(sup *device.Fwnode) {
		if s := NodeOfFwnode(sup); s != nil && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	})
	return out
}

// addLinks is of_fwnode_add_links: for every property, the first binding
// that recognises it names suppliers; each that passes of_link_to_phandle
// goes to add.
func (n *Node) addLinks(add func(sup *device.Fwnode)) {
	for _, p := range n.Properties() {
		for _, b := range bindings {
			if !b.match(p.Name) {
				continue
			}
			for _, sup := range n.bindingSuppliers(b, p.Name) {
				if sup.linkable() {
					add(sup.fw)
				}
			}
			break
		}
	}
}

// bindingSuppliers returns the supplier node of every entry of the
// property, stopping at the first that does not parse.
func (n *Node) bindingSuppliers(b binding, prop string) []*Node {
	var out []*Node
	if b.irq {
		if prop == "interrupts" {
			if n.Property("interrupts-extended") != nil {
				return nil // of_irq_parse_one reads interrupts-extended first
			}
		}
		for i := 0; i < 64; i++ {
			a, err := n.ParseIRQ(i)
			if err != nil {
				break
			}
			out = append(out, a.Node)
		}
		return out
	}
	for i := 0; i < 64; i++ {
		a, err := n.ParsePhandleWithArgs(prop, b.cells, i)
		if err != nil {
			break
		}
		out = append(out, a.Node)
	}
	return out
}

// linkable is of_link_to_phandle's check: the node and its ancestors, up
// to the first that has a device, are available.
func (n *Node) linkable() bool {
	for x := n; x != nil; x = x.parent {
		if x.fw.Device() != nil {
			return true
		}
		if !x.Available() {
			return false
		}
	}
	return true
}
