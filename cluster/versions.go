package cluster

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/collabd/collab/internal/authorship"
	"github.com/collabd/collab/internal/recordcodec"
	"github.com/collabd/collab/storage"
)

// namedVersion is a storage.Version with the text and authorship it keeps
// out of the pruner's reach, and the incarnation it belongs to.
type namedVersion struct {
	storage.Version
	epoch   uint64
	text    string
	authors []storage.Span
}

// setupVersions creates or updates the bucket of named versions: one
// entry per version, under the document's key and the revision.
func (s *Store) setupVersions(ctx context.Context) error {
	err := s.retry(ctx, func(ctx context.Context) (err error) {
		s.versions, err = s.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      s.opts.Prefix + "_versions",
			Description: "collab named versions, with their texts",
			History:     1,
			Storage:     jetstream.FileStorage,
			Replicas:    s.opts.Replicas,
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("cluster: create version bucket: %w", natsErr("setup", err))
	}
	return nil
}

func versionKey(id string, rev uint64) string {
	return encodeKey(id) + "." + strconv.FormatUint(rev, 10)
}

// AuthorsAt implements storage.HistoryStore: the authorship kept with the
// newest snapshot at or below rev, advanced by the messages after it, or
// from the first message when rev is older than the newest snapshot.
// ErrPruned before the retained history unless rev is a named version.
func (s *Store) AuthorsAt(ctx context.Context, id string, rev uint64) ([]storage.Span, error) {
	h, err := s.existing(ctx, id)
	if err != nil {
		return nil, err
	}
	if rev > h.rev {
		return nil, fmt.Errorf("%w: document %q has no revision %d (current %d)", storage.ErrInvalid, id, rev, h.rev)
	}
	if rev == 0 {
		return []storage.Span{}, nil
	}
	st, err := s.rebuild(ctx, id, h, rev, true)
	if errors.Is(err, storage.ErrPruned) {
		if v, ok, verr := s.readVersion(ctx, id, h.epoch, rev); verr != nil || ok {
			return v.authors, verr
		}
	}
	if err != nil {
		return nil, err
	}
	return st.authors.Spans(), nil
}

// prunedText is the text of the named version at rev, or err if there is
// none: TextAt's answer when the history at rev is pruned.
func (s *Store) prunedText(ctx context.Context, id string, h head, rev uint64, err error) (string, error) {
	v, ok, verr := s.readVersion(ctx, id, h.epoch, rev)
	switch {
	case verr != nil:
		return "", verr
	case ok:
		return v.text, nil
	}
	return "", err
}

// PutVersion implements storage.HistoryStore: it names revision v.Rev of
// document id, keeping its text and authorship in the version bucket.
// Errors as bolt.DB.PutVersion's. Two nodes naming new revisions of one
// document at once may each pass the MaxVersions check.
func (s *Store) PutVersion(ctx context.Context, id string, v storage.Version) error {
	if n := utf8.RuneCountInString(v.Name); n == 0 || n > storage.MaxVersionName || !utf8.ValidString(v.Name) {
		return fmt.Errorf("%w: a version name is 1 to %d code points of UTF-8", storage.ErrInvalid, storage.MaxVersionName)
	}
	h, err := s.existing(ctx, id)
	if err != nil {
		return err
	}
	if v.Rev > h.rev {
		return fmt.Errorf("%w: document %q has no revision %d (current %d)", storage.ErrInvalid, id, v.Rev, h.rev)
	}
	nv, named, err := s.readVersion(ctx, id, h.epoch, v.Rev)
	if err != nil {
		return err
	}
	if !named {
		keys, err := s.versionKeys(ctx, id)
		if err != nil {
			return err
		}
		if len(keys) >= storage.MaxVersions {
			return fmt.Errorf("%w: document %q has %d, the most it may have", storage.ErrTooManyVersions, id, storage.MaxVersions)
		}
		nv.authors = []storage.Span{}
		if v.Rev > 0 {
			st, err := s.rebuild(ctx, id, h, v.Rev, true)
			if err != nil {
				return err
			}
			nv.text, nv.authors = st.buf.String(), st.authors.Spans()
		}
	}
	nv.Version, nv.epoch = v, h.epoch
	return s.writeVersion(ctx, id, nv)
}

// writeVersion stores nv, in the large snapshot bucket if it does not fit
// in a message, as snapshots are.
func (s *Store) writeVersion(ctx context.Context, id string, nv namedVersion) error {
	key := versionKey(id, nv.Rev)
	value := encodeVersion(nv)
	if len(value) > int(s.nc.MaxPayload())-msgSlack {
		name := fmt.Sprintf("v.%s.%d", key, nv.epoch)
		if err := s.putBlob(ctx, name, value); err != nil {
			return err
		}
		value = append([]byte{blobMark}, name...)
	}
	rctx, cancel := s.reqCtx(ctx)
	defer cancel()
	if _, err := s.versions.Put(rctx, key, value); err != nil {
		return natsErr("write version", err)
	}
	return nil
}

// readVersion reads the named version of id at rev in incarnation epoch.
func (s *Store) readVersion(ctx context.Context, id string, epoch, rev uint64) (namedVersion, bool, error) {
	key := versionKey(id, rev)
	var e jetstream.KeyValueEntry
	err := s.retry(ctx, func(ctx context.Context) (err error) {
		e, err = s.versions.Get(ctx, key)
		return err
	})
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return namedVersion{}, false, nil
	}
	if err != nil {
		return namedVersion{}, false, natsErr("read version", err)
	}
	data := e.Value()
	if name := blobName(key, data); name != "" {
		if data, err = s.getBlob(ctx, name); err != nil {
			return namedVersion{}, false, natsErr("read version", err)
		}
	}
	nv, err := decodeVersion(rev, data)
	if err != nil {
		return namedVersion{}, false, fmt.Errorf("%w: document %q version %d: %v", storage.ErrCorrupt, id, rev, err)
	}
	return nv, nv.epoch == epoch, nil
}

// versionKeys lists the keys of id's versions, of every incarnation.
func (s *Store) versionKeys(ctx context.Context, id string) ([]string, error) {
	var keys []string
	err := s.retry(ctx, func(ctx context.Context) error {
		keys = keys[:0]
		l, err := s.versions.ListKeysFiltered(ctx, encodeKey(id)+".*")
		if err != nil {
			return err
		}
		defer l.Stop()
		for k := range l.Keys() {
			keys = append(keys, k)
		}
		return nil
	})
	if err != nil && !errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, natsErr("list versions", err)
	}
	return keys, nil
}

func keyRev(key string) (uint64, bool) {
	i := strings.LastIndexByte(key, '.')
	rev, err := strconv.ParseUint(key[i+1:], 10, 64)
	return rev, err == nil
}

// Versions implements storage.HistoryStore.
func (s *Store) Versions(ctx context.Context, id string) ([]storage.Version, error) {
	h, err := s.existing(ctx, id)
	if err != nil {
		return nil, err
	}
	keys, err := s.versionKeys(ctx, id)
	if err != nil {
		return nil, err
	}
	out := []storage.Version{}
	for _, k := range keys {
		rev, ok := keyRev(k)
		if !ok {
			continue
		}
		nv, ok, err := s.readVersion(ctx, id, h.epoch, rev)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, nv.Version)
		}
	}
	slices.SortFunc(out, func(a, b storage.Version) int { return cmp.Compare(a.Rev, b.Rev) })
	return out, nil
}

// DeleteVersion implements storage.HistoryStore.
func (s *Store) DeleteVersion(ctx context.Context, id string, rev uint64) error {
	h, err := s.existing(ctx, id)
	if err != nil {
		return err
	}
	_, ok, err := s.readVersion(ctx, id, h.epoch, rev)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: document %q has no version at revision %d", storage.ErrNotFound, id, rev)
	}
	return s.purgeVersion(ctx, id, versionKey(id, rev))
}

// purgeVersion removes the version under key, and its blob if it has one.
func (s *Store) purgeVersion(ctx context.Context, id, key string) error {
	if cur, _, err := s.versionEntry(ctx, key); err == nil && cur != "" {
		s.deleteBlob(ctx, id, cur)
	}
	rctx, cancel := s.reqCtx(ctx)
	defer cancel()
	if err := s.versions.Purge(rctx, key); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return natsErr("delete version", err)
	}
	return nil
}

// versionEntry returns the blob the entry under key names, if any.
func (s *Store) versionEntry(ctx context.Context, key string) (string, bool, error) {
	rctx, cancel := s.reqCtx(ctx)
	defer cancel()
	e, err := s.versions.Get(rctx, key)
	if err != nil {
		return "", false, err
	}
	return blobName(key, e.Value()), true, nil
}

// dropVersions removes the versions of a deleted document.
func (s *Store) dropVersions(ctx context.Context, id string) {
	keys, err := s.versionKeys(ctx, id)
	for _, k := range keys {
		if err == nil {
			err = s.purgeVersion(ctx, id, k)
		}
	}
	if err != nil {
		s.log.Warn("cluster: remove versions of deleted document", "doc", id, "err", err)
	}
}

// encodeVersion: format byte, epoch uv, created v, name, author and text
// strings, then the authorship as authorship.Encode writes it, to the end.
func encodeVersion(v namedVersion) []byte {
	spans := authorship.Encode(v.authors)
	b := make([]byte, 0, 32+len(v.Name)+len(v.Author)+len(v.text)+len(spans))
	b = append(b, formatV1)
	b = binary.AppendUvarint(b, v.epoch)
	b = recordcodec.AppendTime(b, v.Created)
	b = recordcodec.AppendString(b, v.Name)
	b = recordcodec.AppendString(b, v.Author)
	b = recordcodec.AppendString(b, v.text)
	return append(b, spans...)
}

func decodeVersion(rev uint64, b []byte) (namedVersion, error) {
	d := recordcodec.NewDecoder(b)
	v := namedVersion{Version: storage.Version{Rev: rev}}
	if d.Byte() != formatV1 {
		return v, fmt.Errorf("%w: unknown version format", errDecode)
	}
	v.epoch = d.Uvarint()
	v.Created = d.Time()
	v.Name = d.Str()
	v.Author = d.Str()
	v.text = d.Str()
	if d.Err() == nil && !(utf8.ValidString(v.Name) && utf8.ValidString(v.Author) && utf8.ValidString(v.text)) {
		d.Fail(recordcodec.ErrBadText)
	}
	if d.Err() != nil {
		return v, fmt.Errorf("%w: %w", errDecode, d.Err())
	}
	var err error
	v.authors, err = authorship.Decode(d.Rest())
	return v, err
}
