package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dt load reads at most 1 MiB whatever the file claims: a pipe (whose size
// is 0) with more is refused, not read to its end.
func TestShellDTLoadBounded(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "tree.dts")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	done := make(chan error, 1)
	go func() {
		f, err := openWriteOnly(fifo)
		if err == nil {
			_, err = f.Write(make([]byte, shellMaxDTS+4096))
			f.Close()
		}
		done <- err
	}()
	rc, _, errs := runShellTest(t, "dt load "+fifo+"\n")
	assert.Equal(t, 1, rc)
	assert.Contains(t, errs, "error: line 1: dt: "+fifo+": more than 1048576 bytes: file too large (-EFBIG)")
	err := <-done
	assert.True(t, err == nil || strings.Contains(err.Error(), "broken pipe"), "%v", err)
}

func openWriteOnly(path string) (*os.File, error) { return os.OpenFile(path, os.O_WRONLY, 0) }
