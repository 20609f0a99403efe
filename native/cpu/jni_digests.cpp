// JNI entry points of org.solulens.cpu.NativeSha256. The Java side checks the range and that the buffer is direct.
#include <jni.h>

#include "sha256.h"

extern "C" {

JNIEXPORT jboolean JNICALL Java_org_solulens_cpu_NativeSha256_hasShaExtensions0(JNIEnv*, jclass) {
    return solulens::cpuHasSha();
}

// The SHA-256 of the n bytes at byteOffset in the direct buffer into out (32 bytes).
JNIEXPORT void JNICALL Java_org_solulens_cpu_NativeSha256_digest0(JNIEnv* env, jclass, jobject buffer, jlong byteOffset, jlong n,
                                                                   jboolean withShaExtensions, jbyteArray out) {
    const uint8_t* data = static_cast<const uint8_t*>(env->GetDirectBufferAddress(buffer)) + byteOffset;
    uint8_t digest[32];
    solulens::sha256(data, static_cast<size_t>(n), withShaExtensions, digest);
    env->SetByteArrayRegion(out, 0, 32, reinterpret_cast<const jbyte*>(digest));
}

}  // extern "C"
