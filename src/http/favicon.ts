// /favicon.ico, answered publicly: browsers ask for it on every page (the GraphiQL page, the
// finish page), and a 401 or 404 there is an error in every buyer's console.
import { Hono } from 'hono'

/** A 16x16 ICO (one 32-bit bitmap): a filled green circle, drawn here rather than shipped as a binary. */
function drawFavicon(): Buffer {
  const size = 16
  const pixels = Buffer.alloc(size * size * 4)
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const dx = x - 7.5
      const dy = y - 7.5
      const inside = dx * dx + dy * dy <= 7.5 * 7.5
      // Bitmap rows run bottom-up, pixels are BGRA.
      pixels.set(inside ? [0x5e, 0x80, 0x16, 0xff] : [0, 0, 0, 0], ((size - 1 - y) * size + x) * 4)
    }
  }
  const mask = Buffer.alloc(size * 4) // AND mask, unused with an alpha channel (rows padded to 4 bytes)
  const header = Buffer.alloc(40)
  header.writeUInt32LE(40, 0)
  header.writeInt32LE(size, 4)
  header.writeInt32LE(size * 2, 8) // colour bitmap + mask
  header.writeUInt16LE(1, 12)
  header.writeUInt16LE(32, 14)
  const image = Buffer.concat([header, pixels, mask])
  const directory = Buffer.alloc(6 + 16)
  directory.writeUInt16LE(1, 2) // type: icon
  directory.writeUInt16LE(1, 4) // one image
  directory.writeUInt8(size, 6)
  directory.writeUInt8(size, 7)
  directory.writeUInt16LE(1, 10)
  directory.writeUInt16LE(32, 12)
  directory.writeUInt32LE(image.length, 14)
  directory.writeUInt32LE(directory.length, 18)
  return Buffer.concat([directory, image])
}

const favicon = drawFavicon()

export const faviconRoutes = new Hono().get('/favicon.ico', (c) =>
  c.body(new Uint8Array(favicon), 200, { 'content-type': 'image/x-icon', 'cache-control': 'public, max-age=86400' }),
)
