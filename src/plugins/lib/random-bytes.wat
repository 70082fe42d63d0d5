;; nbdkit's random bytes in WebAssembly, for src/plugins/lib/random-bytes.ts, which embeds this
;; module as `wasm-as` assembles it (test/plugins/random-bytes.test.ts checks that they agree).
;;
;; Both functions follow nbdkit's common/include/random.h: xoshiro256** 1.0 seeded by splitmix64,
;; and keep the low byte of each output. They are WebAssembly for its native i64 arithmetic: in
;; 32-bit halves of JavaScript numbers the same work took three to four times as long.
(module
  ;; One 64 KiB page: each function writes its output from address 0.
  (memory (export "memory") 1)

  ;; splitmix64's output function, for a state z that has already been advanced by γ.
  (func $mix (param $z i64) (result i64)
    (local.set $z (i64.mul (i64.xor (local.get $z) (i64.shr_u (local.get $z) (i64.const 30)))
                           (i64.const 0xbf58476d1ce4e5b9)))
    (local.set $z (i64.mul (i64.xor (local.get $z) (i64.shr_u (local.get $z) (i64.const 27)))
                           (i64.const 0x94d049bb133111eb)))
    (i64.xor (local.get $z) (i64.shr_u (local.get $z) (i64.const 31))))

  ;; fillIndexed(length, xHi, xLo): memory[i] = byte(x + i) for i < length, x = xHi·2^32 + xLo,
  ;; where byte(x) is what nbdkit's plugins/random/random.c serves at seed + offset = x: seed
  ;; xoshiro256** from x and keep the low byte of its third output. Worked through, that output
  ;; needs only three of the four seed words (the 1st, 2nd and 4th outputs of splitmix64):
  ;;
  ;;   s0 = mix(x + 1γ)   s1 = mix(x + 2γ)   s3 = mix(x + 4γ)      γ = 0x9e3779b97f4a7c15
  ;;   S  = s0 ^ s3 ^ (s1 << 17)                                    s[1] after two steps
  ;;   byte = rotl(S · 5, 7) · 9  mod 256                           xoshiro256**'s output
  ;;
  ;; The three mixes are written out, not called: this loop is the random plugin's whole cost,
  ;; and inlined it runs in about 60 % of the time.
  (func (export "fillIndexed") (param $length i32) (param $xHi i32) (param $xLo i32)
    (local $x i64) (local $i i32) (local $z i64) (local $s i64)
    (local.set $x (i64.or (i64.shl (i64.extend_i32_u (local.get $xHi)) (i64.const 32))
                          (i64.extend_i32_u (local.get $xLo))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $length)))

        ;; s = s0 = mix(x + γ)
        (local.set $z (i64.add (local.get $x) (i64.const 0x9e3779b97f4a7c15)))
        (local.set $z (i64.mul (i64.xor (local.get $z) (i64.shr_u (local.get $z) (i64.const 30)))
                               (i64.const 0xbf58476d1ce4e5b9)))
        (local.set $z (i64.mul (i64.xor (local.get $z) (i64.shr_u (local.get $z) (i64.const 27)))
                               (i64.const 0x94d049bb133111eb)))
        (local.set $s (i64.xor (local.get $z) (i64.shr_u (local.get $z) (i64.const 31))))

        ;; s ^= s3 = mix(x + 4γ)    (4γ mod 2^64)
        (local.set $z (i64.add (local.get $x) (i64.const 0x78dde6e5fd29f054)))
        (local.set $z (i64.mul (i64.xor (local.get $z) (i64.shr_u (local.get $z) (i64.const 30)))
                               (i64.const 0xbf58476d1ce4e5b9)))
        (local.set $z (i64.mul (i64.xor (local.get $z) (i64.shr_u (local.get $z) (i64.const 27)))
                               (i64.const 0x94d049bb133111eb)))
        (local.set $s (i64.xor (local.get $s)
                               (i64.xor (local.get $z) (i64.shr_u (local.get $z) (i64.const 31)))))

        ;; s ^= s1 << 17, s1 = mix(x + 2γ)    (2γ mod 2^64)
        (local.set $z (i64.add (local.get $x) (i64.const 0x3c6ef372fe94f82a)))
        (local.set $z (i64.mul (i64.xor (local.get $z) (i64.shr_u (local.get $z) (i64.const 30)))
                               (i64.const 0xbf58476d1ce4e5b9)))
        (local.set $z (i64.mul (i64.xor (local.get $z) (i64.shr_u (local.get $z) (i64.const 27)))
                               (i64.const 0x94d049bb133111eb)))
        (local.set $s (i64.xor (local.get $s)
                               (i64.shl (i64.xor (local.get $z) (i64.shr_u (local.get $z) (i64.const 31)))
                                        (i64.const 17))))

        ;; memory[i] = rotl(s · 5, 7) · 9; store8 keeps the low byte
        (i64.store8 (local.get $i)
          (i64.mul (i64.rotl (i64.mul (local.get $s) (i64.const 5)) (i64.const 7)) (i64.const 9)))

        (local.set $x (i64.add (local.get $x) (i64.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; fillSequence(length, seedHi, seedLo): seeds xoshiro256** from seed = seedHi·2^32 + seedLo
  ;; (random.h's xsrandom) and writes the low bytes of its next `length` outputs (xrandom).
  (func (export "fillSequence") (param $length i32) (param $seedHi i32) (param $seedLo i32)
    (local $z i64) (local $s0 i64) (local $s1 i64) (local $s2 i64) (local $s3 i64)
    (local $t i64) (local $i i32)
    ;; splitmix64: the state advances by γ before each of the four outputs
    (local.set $z (i64.or (i64.shl (i64.extend_i32_u (local.get $seedHi)) (i64.const 32))
                          (i64.extend_i32_u (local.get $seedLo))))
    (local.set $z (i64.add (local.get $z) (i64.const 0x9e3779b97f4a7c15)))
    (local.set $s0 (call $mix (local.get $z)))
    (local.set $z (i64.add (local.get $z) (i64.const 0x9e3779b97f4a7c15)))
    (local.set $s1 (call $mix (local.get $z)))
    (local.set $z (i64.add (local.get $z) (i64.const 0x9e3779b97f4a7c15)))
    (local.set $s2 (call $mix (local.get $z)))
    (local.set $z (i64.add (local.get $z) (i64.const 0x9e3779b97f4a7c15)))
    (local.set $s3 (call $mix (local.get $z)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $length)))
        ;; output rotl(s1 · 5, 7) · 9, low byte
        (i64.store8 (local.get $i)
          (i64.mul (i64.rotl (i64.mul (local.get $s1) (i64.const 5)) (i64.const 7)) (i64.const 9)))
        ;; the state transition
        (local.set $t (i64.shl (local.get $s1) (i64.const 17)))
        (local.set $s2 (i64.xor (local.get $s2) (local.get $s0)))
        (local.set $s3 (i64.xor (local.get $s3) (local.get $s1)))
        (local.set $s1 (i64.xor (local.get $s1) (local.get $s2)))
        (local.set $s0 (i64.xor (local.get $s0) (local.get $s3)))
        (local.set $s2 (i64.xor (local.get $s2) (local.get $t)))
        (local.set $s3 (i64.rotl (local.get $s3) (i64.const 45)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))))
