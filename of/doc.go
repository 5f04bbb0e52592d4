// Package of is the kernel's live device tree (drivers/of: base.c,
// property.c, address.c, irq.c, device.c, dynamic.c, overlay.c,
// resolver.c): the tree a machine boots with, read from device-tree source
// (Load, unflatten_device_tree), its nodes and properties as drivers read
// them (of_property_read_*, of_parse_phandle_with_args), device matching
// by compatible (of_match_node, of_device_get_match_data), the suppliers a
// node's properties name for fw_devlink (of_fwnode_add_links), and
// overlays applied and removed at run time (of_overlay_fdt_apply,
// of_overlay_remove) with the reconfiguration notifications that make and
// destroy devices (package of/ofplatform listens to them).
//
// One tree per machine: TreeOf finds it from anything of the machine (a
// System, a device). Under the simulator, applying and removing overlays
// take of_mutex, a schedule point; reading the tree never sleeps.
package of

import (
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/trace"
)

// Kind is the trace kind of the package's events: unflatten_device_tree,
// of_overlay_fdt_apply, of_overlay_remove, of_changeset_apply_entries,
// of_changeset_revert_entries, of_reconfig_notify, of_resolve_phandles.
const Kind trace.Kind = "of"

// Errors, the errnos of drivers/of (the values of package device).
var (
	// ErrInvalid is -EINVAL: a property absent where one is read
	// (of_property_read_u32), a bad overlay, a phandle to no node.
	ErrInvalid = device.ErrInvalid
	// ErrNoData is -ENODATA: a property without a value.
	ErrNoData = device.ErrNoData
	// ErrOverflow is -EOVERFLOW: a property too short for what is read.
	ErrOverflow = device.ErrOverflow
	// ErrNoEntry is -ENOENT: an index past the end of a phandle list, or
	// an empty entry in it.
	ErrNoEntry = device.ErrNoEntry
	// ErrNoDevice is -ENODEV: no overlay of that id, no tree loaded.
	ErrNoDevice = device.ErrNoDevice
	// ErrBusy is -EBUSY: a tree already loaded, an overlay removed while
	// a later one overlaps it.
	ErrBusy = device.ErrBusy
	// ErrFileTooBig is -EFBIG: a source beyond the parser's bounds.
	ErrFileTooBig = device.ErrFileTooBig
)
