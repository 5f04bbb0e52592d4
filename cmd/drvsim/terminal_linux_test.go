package main

import (
	"bytes"
	"fmt"
	"os"
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// openPTY opens a pseudo-terminal pair (posix_openpt, unlockpt, ptsname)
// and returns its two ends.
func openPTY(t *testing.T) (ptmx, pts *os.File) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	require.NoError(t, err)
	t.Cleanup(func() { ptmx.Close() })
	ioctl := func(req uintptr, arg unsafe.Pointer) {
		rc, err := ptmx.SyscallConn()
		require.NoError(t, err)
		var errno syscall.Errno
		require.NoError(t, rc.Control(func(fd uintptr) {
			_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, req, uintptr(arg))
		}))
		require.Zero(t, errno, "ioctl %#x", req)
	}
	var unlock int32
	ioctl(syscall.TIOCSPTLCK, unsafe.Pointer(&unlock))
	var n uint32
	ioctl(syscall.TIOCGPTN, unsafe.Pointer(&n))
	pts, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	require.NoError(t, err)
	t.Cleanup(func() { pts.Close() })
	return ptmx, pts
}

// isTerminal is a real terminal check: a pseudo-terminal is one; /dev/null
// (a character device), a pipe, a regular file and a buffer are not.
func TestIsTerminal(t *testing.T) {
	_, pts := openPTY(t)
	assert.True(t, isTerminal(pts))
	assert.True(t, writesToTerminal(pts))

	null, err := os.Open(os.DevNull)
	require.NoError(t, err)
	defer null.Close()
	st, err := null.Stat()
	require.NoError(t, err)
	require.NotZero(t, st.Mode()&os.ModeCharDevice, "/dev/null is a character device")
	assert.False(t, isTerminal(null), "but not a terminal")

	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	assert.False(t, isTerminal(r))
	assert.False(t, isTerminal(w))
	f, err := os.CreateTemp(t.TempDir(), "out")
	require.NoError(t, err)
	defer f.Close()
	assert.False(t, isTerminal(f))
	assert.False(t, isTerminal((*os.File)(nil)))
	assert.False(t, isTerminal(nil))
}

// At a terminal the shell greets and prompts; a session read from a
// pseudo-terminal shows it.
func TestShellAtATerminal(t *testing.T) {
	ptmx, pts := openPTY(t)
	_, err := ptmx.Write([]byte("quit\n"))
	require.NoError(t, err)
	var out, errb bytes.Buffer
	rc := runShell(nil, pts, &out, &errb)
	assert.Equal(t, 0, rc, errb.String())
	assert.Equal(t, "drvsim shell: a simulated machine. Type \"help\" for the commands, \"quit\" to leave.\n"+shellPrompt, out.String())
}
