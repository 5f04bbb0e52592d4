package bus

import (
	"fmt"
	"sort"
	"strings"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/trace"
)

// devtmpfs (drivers/base/devtmpfs.c): every device added with a device
// number gets a node under /dev, named by its class (device_get_devnode:
// "dri/card0") or after the device, and loses it when it is deleted. The
// kernel's devtmpfsd creates the inode; here the node is a map entry of
// the Core, so each machine has its own /dev. Opening a node is the file
// layer's business (package chardev).

// DevNode is one node under /dev: a devtmpfs inode.
type DevNode struct {
	// Name is the path below /dev, e.g. "skel0" or "dri/card0".
	Name string
	// Devt is the node's device number (i_rdev).
	Devt device.DevT
	// Dev is the device that created the node.
	Dev *device.Device
}

// Path returns the node's absolute path, "/dev/<name>".
func (n DevNode) Path() string { return "/dev/" + n.Name }

// devtmpfsCreate is devtmpfs_create_node, from device_add. A node of that
// name already there (another device's) is left alone: the kernel's mknod
// fails with -EEXIST, which device_add ignores; here it is a warning.
func (c *Core) devtmpfsCreate(dev *device.Device) {
	name := dev.DevNode()
	if name == "" {
		return
	}
	c.mu.Lock()
	old, dup := c.nodes[name]
	if !dup {
		c.nodes[name] = DevNode{Name: name, Devt: dev.Devt(), Dev: dev}
	}
	c.mu.Unlock()
	if dup {
		c.emit(trace.Warn, dev.Path(), "devtmpfs_create_node",
			fmt.Sprintf("/dev/%s exists (created by %s, dev %s): -EEXIST", name, old.Dev.Path(), old.Devt))
		return
	}
	c.emit(trace.DeviceAdd, dev.Path(), "devtmpfs_create_node", fmt.Sprintf("/dev/%s %s", name, dev.Devt()))
}

// devtmpfsDelete is devtmpfs_delete_node, from device_del: the node goes
// if it is the device's own (dev_mynode).
func (c *Core) devtmpfsDelete(dev *device.Device) {
	name := dev.DevNode()
	if name == "" {
		return
	}
	c.mu.Lock()
	n, ok := c.nodes[name]
	mine := ok && n.Dev == dev
	if mine {
		delete(c.nodes, name)
	}
	c.mu.Unlock()
	if mine {
		c.emit(trace.DeviceDel, dev.Path(), "devtmpfs_delete_node", "/dev/"+name)
	}
}

// DevNodes returns the nodes under /dev, sorted by name: what `ls -R /dev`
// shows of the devices the driver core added.
func (c *Core) DevNodes() []DevNode {
	c.mu.Lock()
	out := make([]DevNode, 0, len(c.nodes))
	for _, n := range c.nodes {
		out = append(out, n)
	}
	c.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// LookupDevNode resolves path, "/dev/<name>" (or "<name>"), to its node:
// the path walk of open(2) in devtmpfs.
func (c *Core) LookupDevNode(path string) (DevNode, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.nodes[strings.TrimPrefix(path, "/dev/")]
	return n, ok
}
