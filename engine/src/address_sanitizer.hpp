#pragma once
// EAM_ADDRESS_SANITIZER: 1 in an AddressSanitizer build (GCC defines __SANITIZE_ADDRESS__,
// clang answers __has_feature), else 0. The engine's own recycling of memory (envelope blocks,
// reply slots) is off there, so that ASan sees every block freed and poisons it.
#if defined(__SANITIZE_ADDRESS__)
#define EAM_ADDRESS_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EAM_ADDRESS_SANITIZER 1
#endif
#endif
#ifndef EAM_ADDRESS_SANITIZER
#define EAM_ADDRESS_SANITIZER 0
#endif
