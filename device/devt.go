package device

import "fmt"

// DevT is dev_t (include/linux/kdev_t.h): a device number, the major number
// in the top 12 bits and the minor in the low 20 (MINORBITS). A device
// whose DevT is not zero gets a node under /dev when it is added
// (devtmpfs_create_node) and MAJOR=, MINOR= and DEVNAME= in its uevents.
type DevT uint32

// Limits of a device number (kdev_t.h, fs/char_dev.c).
const (
	// MinorBits is MINORBITS: the minor number's width.
	MinorBits = 20
	// MinorMask is MINORMASK: the largest minor number.
	MinorMask = 1<<MinorBits - 1
	// MajorMax is CHRDEV_MAJOR_MAX: character majors are below it.
	MajorMax = 512
)

// MkDev is MKDEV(major, minor). A major of MajorMax or more, or a minor
// above MinorMask, is cut to its field's width, as the kernel's macro
// does; the registration functions that take a DevT check the range.
func MkDev(major, minor uint32) DevT {
	return DevT(major<<MinorBits | minor&MinorMask)
}

// Major is MAJOR(dev).
func (d DevT) Major() uint32 { return uint32(d) >> MinorBits }

// Minor is MINOR(dev).
func (d DevT) Minor() uint32 { return uint32(d) & MinorMask }

// String renders the number as "major:minor", the form of the device's
// "dev" attribute in sysfs (print_dev_t).
func (d DevT) String() string { return fmt.Sprintf("%d:%d", d.Major(), d.Minor()) }
