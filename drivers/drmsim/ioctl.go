package drmsim

import (
	"fmt"

	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/device"
)

// Cmd is an ioctl number (the nr field of DRM_IOWR(nr, type)); the core's
// are below, drivers' start at CommandBase.
type Cmd uint32

// The core ioctls modelled, with the kernel's numbers.
const (
	// IoctlVersion is DRM_IOCTL_VERSION (drm_version): arg *VersionArgs.
	IoctlVersion Cmd = 0x00
	// IoctlDirtyFB is DRM_IOCTL_MODE_DIRTYFB (drm_mode_dirtyfb_ioctl):
	// flush a damaged region of a buffer to the hardware through the
	// driver's Dirty callback. arg *DirtyFBArgs.
	IoctlDirtyFB Cmd = 0xB1
	// IoctlCreateDumb is DRM_IOCTL_MODE_CREATE_DUMB
	// (drm_mode_create_dumb_ioctl): arg *CreateDumbArgs.
	IoctlCreateDumb Cmd = 0xB2
	// IoctlMapDumb is DRM_IOCTL_MODE_MAP_DUMB (drm_mode_mmap_dumb_ioctl):
	// arg *MapDumbArgs.
	IoctlMapDumb Cmd = 0xB3
	// CommandBase is DRM_COMMAND_BASE, the first driver ioctl number.
	CommandBase Cmd = 0x40
)

// IoctlFunc is drm_ioctl_t: an ioctl handler; arg is the ioctl's argument
// struct (a pointer), already copied in.
type IoctlFunc func(f *File, arg any) error

// IoctlDesc is struct drm_ioctl_desc: one entry of an ioctl table.
type IoctlDesc struct {
	Cmd  Cmd
	Name string // "DRM_IOCTL_VERSION"
	Func IoctlFunc
}

// VersionArgs is struct drm_version.
type VersionArgs struct {
	Major, Minor, Patchlevel int
	Name, Desc               string
}

// CreateDumbArgs is struct drm_mode_create_dumb: Width, Height and BPP in;
// Handle, Pitch and Size out.
type CreateDumbArgs struct {
	Width, Height, BPP uint32
	Handle, Pitch      uint32
	Size               uint64
}

// MapDumbArgs is struct drm_mode_map_dumb: Handle in, the fake mmap Offset
// out.
type MapDumbArgs struct {
	Handle uint32
	Offset uint64
}

// Rect is struct drm_clip_rect: the damaged region, [X1,X2) x [Y1,Y2). The
// zero Rect means the whole buffer.
type Rect struct{ X1, Y1, X2, Y2 int }

// DirtyFBArgs is struct drm_mode_fb_dirty_cmd, simplified: the buffer
// object is named by its GEM handle (the model has no separate
// framebuffer objects) and one clip rectangle.
type DirtyFBArgs struct {
	Handle uint32
	Clip   Rect
}

// coreIoctls is the core's table (drm_ioctls).
var coreIoctls = []IoctlDesc{
	{IoctlVersion, "DRM_IOCTL_VERSION", ioctlVersion},
	{IoctlDirtyFB, "DRM_IOCTL_MODE_DIRTYFB", ioctlDirtyFB},
	{IoctlCreateDumb, "DRM_IOCTL_MODE_CREATE_DUMB", ioctlCreateDumb},
	{IoctlMapDumb, "DRM_IOCTL_MODE_MAP_DUMB", ioctlMapDumb},
	{IoctlSetCRTC, "DRM_IOCTL_MODE_SETCRTC", ioctlSetCRTC},
}

// Ioctl is ioctl(2) on the file: vfs_ioctl on its struct file (a
// schedule point under a scheduler, which holds a reference on the file
// for the call, so a concurrent Close releases the file only when the
// ioctl returns), reaching drm_ioctl. As in the kernel, an unplugged
// device refuses every ioctl with ErrNoDevice before the handler runs
// (drm_dev_is_unplugged); handlers that touch the hardware must still
// bracket the access with Enter/Exit, because the unplug can come right
// after that check. An unknown number gives ErrInvalid, a closed file
// ErrBadFile. Every call that reaches drm_ioctl records one drm_ioctl
// event with its result.
func (f *File) Ioctl(cmd Cmd, arg any) error {
	_, err := f.filp.Ioctl(uint(cmd), arg)
	return err
}

// drmIoctl is drm_ioctl, the struct file's unlocked_ioctl.
func drmIoctl(filp *chardev.File, c uint, arg any) (int, error) {
	f := fileOf(filp)
	d := f.dev
	cmd := Cmd(c)
	f.obj.Access("drm_ioctl: file->minor")
	desc, ok := lookupIoctl(d.drv, cmd)
	name := desc.Name
	if !ok {
		name = fmt.Sprintf("ioctl %#x", uint32(cmd))
	}
	var err error
	switch {
	case d.IsUnplugged():
		err = fmt.Errorf("drm_ioctl %s %s: %w", d.path, name, ErrNoDevice)
	case !ok:
		err = fmt.Errorf("drm_ioctl %s: unknown %s: %w", d.path, name, ErrInvalid)
	default:
		err = desc.Func(f, arg)
	}
	d.emit(KindIoctl, "drm_ioctl", fmt.Sprintf("file %d %s ret=%s", f.id, name, device.ErrnoName(err)))
	return 0, err
}

func lookupIoctl(drv *Driver, cmd Cmd) (IoctlDesc, bool) {
	for _, d := range coreIoctls {
		if d.Cmd == cmd {
			return d, true
		}
	}
	for _, d := range drv.Ioctls {
		if d.Cmd == cmd && d.Func != nil {
			return d, true
		}
	}
	return IoctlDesc{}, false
}

func argOf[T any](arg any, name string) (*T, error) {
	a, ok := arg.(*T)
	if !ok || a == nil {
		return nil, fmt.Errorf("%s: argument %T: %w", name, arg, ErrInvalid)
	}
	return a, nil
}

// ioctlVersion is drm_version.
func ioctlVersion(f *File, arg any) error {
	a, err := argOf[VersionArgs](arg, "drm_version")
	if err != nil {
		return err
	}
	drv := f.dev.drv
	*a = VersionArgs{Major: drv.Major, Minor: drv.Minor, Patchlevel: drv.Patchlevel, Name: drv.Name, Desc: drv.Desc}
	return nil
}

// ioctlCreateDumb is drm_mode_create_dumb_ioctl.
func ioctlCreateDumb(f *File, arg any) error {
	a, err := argOf[CreateDumbArgs](arg, "drm_mode_create_dumb_ioctl")
	if err != nil {
		return err
	}
	return f.createDumb(a)
}

// ioctlMapDumb is drm_mode_mmap_dumb_ioctl: the object's fake offset.
func ioctlMapDumb(f *File, arg any) error {
	a, err := argOf[MapDumbArgs](arg, "drm_mode_mmap_dumb_ioctl")
	if err != nil {
		return err
	}
	o, err := f.Lookup(a.Handle)
	if err != nil {
		return err
	}
	a.Offset = o.offset
	return nil
}

// ioctlDirtyFB is drm_mode_dirtyfb_ioctl: the driver's dirty callback on
// the buffer, whole-buffer when the clip is empty.
func ioctlDirtyFB(f *File, arg any) error {
	a, err := argOf[DirtyFBArgs](arg, "drm_mode_dirtyfb_ioctl")
	if err != nil {
		return err
	}
	o, err := f.Lookup(a.Handle)
	if err != nil {
		return err
	}
	if f.dev.drv.Dirty == nil {
		return fmt.Errorf("drm_mode_dirtyfb_ioctl: %w", ErrNotSupported)
	}
	clip := a.Clip
	if clip == (Rect{}) {
		clip = Rect{0, 0, o.width, o.height}
	}
	if clip.X1 < 0 || clip.Y1 < 0 || clip.X2 > o.width || clip.Y2 > o.height || clip.X1 >= clip.X2 || clip.Y1 >= clip.Y2 {
		return fmt.Errorf("drm_mode_dirtyfb_ioctl: clip %v: %w", clip, ErrInvalid)
	}
	return f.dev.drv.Dirty(f, o, clip)
}
