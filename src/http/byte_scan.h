#pragma once

// What bytes an HTTP/1 head may hold where, and scans of them sixteen at a
// time for the long field values (a session cookie, a user agent) and
// request targets that every request carries. Bytes 0x80 and above
// (obs-text) are accepted in values and targets: they are negative as
// signed bytes, which is how the compares below leave them out.

#include <cstddef>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace gatehouse::http {

// RFC 9110 section 5.6.2 tchar: DIGIT, ALPHA and !#$%&'*+-.^_`|~. Underscores
// are tokens; whether a field name with one is accepted is decided by
// headers_with_underscores_action, not here.
inline constexpr bool kTokenByte[256] = {
    // 0x00-0x1f: controls
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    // SP ! " # $ % & ' ( ) * + , - . /
    0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0,
    // 0-9 : ; < = > ?
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
    // @ A-O
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    // P-Z [ \ ] ^ _
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1,
    // ` a-o
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    // p-z { | } ~ DEL
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0,
    // 0x80-0xff: not tokens (the rest of the table is zero)
};
inline bool isTokenByte(unsigned char c) { return kTokenByte[c]; }

// RFC 9110 section 5.5: VCHAR, SP, HTAB and obs-text.
inline bool isFieldValueByte(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

// Request-target bytes: anything visible, obs-text included.
inline bool isTargetByte(unsigned char c) { return c > 0x20 && c != 0x7f; }

namespace detail {

// The first byte at or after `p` (before `end`) that is below `floor` (and
// not negative as a signed byte) or DEL, or `end`; `tab_ok` lets HTAB
// through. One compare of sixteen bytes at a time, then byte by byte.
template <char kFloor, bool kTabOk>
const char* skipBytes(const char* p, const char* end) {
#if defined(__SSE2__)
  // Marks the bytes of the sixteen at `at` that stop the scan (and HTAB).
  auto marks = [](const char* at) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
    const __m128i low = _mm_and_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(kFloor)),
                                      _mm_cmpgt_epi8(v, _mm_set1_epi8(-1)));
    return static_cast<unsigned>(
        _mm_movemask_epi8(_mm_or_si128(low, _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)))));
  };
  const char* const begin = p;
  while (end - p >= 16) {
    const unsigned m = marks(p);
    if (m == 0) {
      p += 16;
      continue;
    }
    p += __builtin_ctz(m);
    if (!kTabOk || *p != '\t') return p;
    ++p;
  }
  // The last bytes of a run of sixteen or more: the sixteen that end it,
  // without the marks of the bytes already passed.
  if (p < end && end - begin >= 16) {
    const char* last = end - 16;
    const unsigned m = marks(last) >> (p - last);
    if (m == 0) return end;
    p += __builtin_ctz(m);
    if (!kTabOk || *p != '\t') return p;
    ++p;
  }
#endif
  while (p < end) {
    const auto c = static_cast<unsigned char>(*p);
    if (kTabOk ? !isFieldValueByte(c) : !isTargetByte(c)) break;
    ++p;
  }
  return p;
}

}  // namespace detail

// The first byte at or after `p` that cannot be in a field value (CR ends
// one), or `end`.
inline const char* skipFieldValueBytes(const char* p, const char* end) {
  return detail::skipBytes<0x20, true>(p, end);
}

// The first byte at or after `p` that cannot be in a request target (SP
// ends one), or `end`.
inline const char* skipTargetBytes(const char* p, const char* end) {
  return detail::skipBytes<0x21, false>(p, end);
}

// Where a message head buffered in [data, data + size) ends: just past the
// first empty line, found from its LF and the CR LF or LF after it (a bare
// "\n\n" ends a head too, for the head check to refuse). Lines are looked
// for from `from`; 0 when the buffer holds no end yet. The LFs of sixteen
// bytes are found at once.
inline size_t findHeadEnd(const char* data, size_t size, size_t from) {
  // The head's length if the LF at `at` starts its empty line, else 0.
  auto endAfter = [&](size_t at) -> size_t {
    if (at + 1 < size && data[at + 1] == '\n') return at + 2;
    if (at + 2 < size && data[at + 1] == '\r' && data[at + 2] == '\n') return at + 3;
    return 0;
  };
  size_t i = from;
#if defined(__SSE2__)
  auto lfs = [&](size_t at) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + at));
    return static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))));
  };
  for (; i + 16 <= size; i += 16) {
    for (unsigned m = lfs(i); m != 0; m &= m - 1) {
      if (size_t end = endAfter(i + static_cast<size_t>(__builtin_ctz(m)))) return end;
    }
  }
  // The bytes after the last whole sixteen: the sixteen that end the
  // buffer, without the marks of the bytes already looked at.
  if (i < size && size >= 16) {
    const size_t last = size - 16;
    for (unsigned m = lfs(last) >> (i - last); m != 0; m &= m - 1) {
      if (size_t end = endAfter(i + static_cast<size_t>(__builtin_ctz(m)))) return end;
    }
    return 0;
  }
#endif
  for (; i < size; ++i) {
    if (data[i] != '\n') continue;
    if (size_t end = endAfter(i)) return end;
  }
  return 0;
}

}  // namespace gatehouse::http
