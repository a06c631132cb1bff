package collab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
)

// TestCodeOf: the one mapping from errors to protocol codes and HTTP
// statuses, for wrapped errors of every layer.
func TestCodeOf(t *testing.T) {
	tests := []struct {
		err    error
		code   string
		status int
	}{
		{fmt.Errorf("x: %w", storage.ErrUnavailable), wire.CodeUnavailable, http.StatusServiceUnavailable},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), wire.CodeUnavailable, http.StatusServiceUnavailable},
		{fmt.Errorf("x: %w", storage.ErrNotFound), wire.CodeNotFound, http.StatusNotFound},
		{fmt.Errorf("x: %w", storage.ErrPruned), wire.CodeRevTooOld, http.StatusGone},
		{fmt.Errorf("x: %w", storage.ErrTooManyVersions), wire.CodeTooManyVersions, http.StatusConflict},
		{ErrNoHistory, wire.CodeUnavailable, http.StatusServiceUnavailable},
		{fmt.Errorf("x: %w", ot.ErrPastEnd), wire.CodeInvalidOp, http.StatusBadRequest},
		{hostError("rebind.evil.test"), wire.CodeHostNotAllowed, http.StatusMisdirectedRequest},
		{errConnsPerIP, wire.CodeRateLimited, http.StatusTooManyRequests},
		{errAPIRate, wire.CodeRateLimited, http.StatusTooManyRequests},
		{ErrTooManyLoaded, wire.CodeTooManyLoaded, http.StatusServiceUnavailable},
		{errWriteRate, wire.CodeRateLimited, http.StatusTooManyRequests},
		{fmt.Errorf("x: %w", ErrQuota), wire.CodeQuotaExceeded, http.StatusTooManyRequests},
		{errors.New("something else"), wire.CodeInternal, http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			code, status := codeOf(tt.err)
			if code != tt.code || status != tt.status {
				t.Errorf("codeOf = %s, %d; want %s, %d", code, status, tt.code, tt.status)
			}
		})
	}
}
