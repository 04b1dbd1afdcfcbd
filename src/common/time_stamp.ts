/**
 * RSPLIB's time stamps, as its log lines and services print them (internal).
 *
 * @module
 */

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const LONG_MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

const p = (n: number, w = 2) => String(n).padStart(w, "0");

/** Current time in microseconds since the epoch. */
export function microTime(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

/** RSPLIB's `printTimeStamp`: `24-Nov-2026 01:44:12.1234: ` (local time). */
export function timeStamp(us: number = microTime()): string {
  const d = new Date(Math.floor(us / 1000));
  return `${p(d.getDate())}-${MONTHS[d.getMonth()]}-${d.getFullYear()} ${p(d.getHours())}:${
    p(d.getMinutes())
  }:${p(d.getSeconds())}.${p(Math.floor((us % 1000000) / 100), 4)}: `;
}

/** The Daytime service's line: `Tuesday, 24-November-2026 01:44:12.123456\n` (local time). */
export function daytimeLine(us: number = microTime()): string {
  const d = new Date(Math.floor(us / 1000));
  return `${DAYS[d.getDay()]}, ${p(d.getDate())}-${LONG_MONTHS[d.getMonth()]}-${d.getFullYear()} ${
    p(d.getHours())
  }:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(us % 1000000, 6)}\n`;
}
