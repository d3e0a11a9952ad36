/*
 * rpn: a loadable execution interpreter (the exec example OpenBSD's /usr/share/lkm never had)
 * for a small stack language, recognised by its magic first line "#!rpn". Load it and run a
 * program with
 *
 *	modload rpn.o
 *	lkmctl exec factorial.rpn 10		factorial of 10 is 3628800
 *
 * The kernel offers every file it is asked to run to each execution switch entry; rpn_check
 * accepts the ones that start with the magic line and declines the rest (ENOEXEC). The program
 * runs in rpn_run, which the kernel calls through ep_entry; what it prints (uprintf) goes back
 * to lkmctl, and its exit status is lkmctl's.
 *
 * The language, one word at a time, separated by white space:
 *	123 -4			push a number
 *	+ - * / mod		arithmetic on the top two numbers
 *	= < >			comparisons: 1 or 0
 *	dup drop swap over rot	stack shuffling
 *	.			print the top number (popped)
 *	." text"		print text
 *	emit cr			print a character (its code), a newline
 *	argc  N arg		the number of arguments; argument N (from 1) as a number
 *	if ... else ... then	conditional (0 is false)
 *	LIMIT START do ... loop	counted loop, i is the index
 *	begin ... until		loop until the top is true
 *	exit			stop, with the top number as the exit status
 *	( comment )  \ comment to the end of the line
 * Errors (stack underflow, unknown word, division by zero) print "rpn: NAME:LINE: ..." and exit
 * with status 1.
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/exec.h>
#include <sys/malloc.h>
#include <sys/lkm.h>

#define RPN_MAGIC "#!rpn"
#define RPN_STACK 256
#define RPN_STEPS 10000000L

enum op {
	OP_NUM, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_EQ, OP_LT, OP_GT, OP_DUP, OP_DROP,
	OP_SWAP, OP_OVER, OP_ROT, OP_DOT, OP_STR, OP_EMIT, OP_CR, OP_ARGC, OP_ARG, OP_IF,
	OP_ELSE, OP_THEN, OP_DO, OP_LOOP, OP_I, OP_BEGIN, OP_UNTIL, OP_EXIT
};

static const char *const words[] = {
	"", "+", "-", "*", "/", "mod", "=", "<", ">", "dup", "drop", "swap", "over", "rot", ".",
	".\"", "emit", "cr", "argc", "arg", "if", "else", "then", "do", "loop", "i", "begin",
	"until", "exit"
};

struct insn {
	enum op op;
	long value;		/* OP_NUM: the number; jumps: the target */
	const char *text;	/* OP_STR */
	int len;
	int line;
};

struct rpn {
	struct exec_package *epp;
	struct insn *code;
	int ncode;
	long stack[RPN_STACK];
	int sp;
	long loops[RPN_STACK][2];	/* do ... loop: index, limit */
	int lp;
	int error;
};

static int
fail(struct rpn *r, int line, const char *what)
{
	uprintf("rpn: %s:%d: %s\n", r->epp->ep_name, line, what);
	r->error = 1;
	return (1);
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A decimal number, optionally negative: 1 and *value, or 0. */
static int
number(const char *s, int len, long *value)
{
	int i = 0, negative = 0;
	long v = 0;

	if (len > 1 && s[0] == '-') {
		negative = 1;
		i = 1;
	}
	if (i == len)
		return (0);
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (0);
		v = v * 10 + (s[i] - '0');
	}
	*value = negative ? -v : v;
	return (1);
}

/* Turns the program text (after the magic line) into instructions, with jumps resolved. */
static int
compile(struct rpn *r, const char *text, size_t size)
{
	int control[RPN_STACK], cp = 0, line = 1;
	size_t at = 0;

	while (at < size && text[at] != '\n')	/* the magic line */
		at++;
	r->code = malloc(sizeof(struct insn) * (size / 2 + 1), M_TEMP, M_WAITOK | M_ZERO);
	while (at < size) {
		const char *w;
		int len = 0, op;
		struct insn *in;

		if (text[at] == '\n')
			line++;
		if (is_space(text[at])) {
			at++;
			continue;
		}
		w = text + at;
		while (at + len < size && !is_space(w[len]))
			len++;
		at += len;
		if (len == 1 && w[0] == '\\') {		/* comment to the end of the line */
			while (at < size && text[at] != '\n')
				at++;
			continue;
		}
		if (len == 1 && w[0] == '(') {		/* ( comment ) */
			while (at < size && text[at] != ')') {
				if (text[at] == '\n')
					line++;
				at++;
			}
			at++;
			continue;
		}
		in = &r->code[r->ncode];
		in->line = line;
		if (number(w, len, &in->value)) {
			in->op = OP_NUM;
			r->ncode++;
			continue;
		}
		for (op = 1; op < (int)nitems(words); op++)
			if ((int)strlen(words[op]) == len && strncmp(words[op], w, len) == 0)
				break;
		if (op == (int)nitems(words)) {
			char what[80];

			snprintf(what, sizeof(what), "unknown word '%.*s'", len > 40 ? 40 : len, w);
			return fail(r, line, what);
		}
		in->op = op;
		if (op == OP_STR) {			/* ." text": up to the next quote */
			if (at < size)
				at++;
			in->text = text + at;
			while (at < size && text[at] != '"')
				at++;
			in->len = (int)(text + at - in->text);
			if (at < size)
				at++;
		}
		switch (op) {
		case OP_IF:
		case OP_DO:
		case OP_BEGIN:
			if (cp == RPN_STACK)
				return fail(r, line, "nested too deeply");
			control[cp++] = r->ncode;
			break;
		case OP_ELSE:
			if (cp == 0 || r->code[control[cp - 1]].op != OP_IF)
				return fail(r, line, "else without if");
			r->code[control[cp - 1]].value = r->ncode + 1;
			control[cp - 1] = r->ncode;
			break;
		case OP_THEN:
			if (cp == 0 || (r->code[control[cp - 1]].op != OP_IF &&
			    r->code[control[cp - 1]].op != OP_ELSE))
				return fail(r, line, "then without if");
			r->code[control[--cp]].value = r->ncode + 1;
			break;
		case OP_LOOP:
			if (cp == 0 || r->code[control[cp - 1]].op != OP_DO)
				return fail(r, line, "loop without do");
			in->value = control[--cp] + 1;
			break;
		case OP_UNTIL:
			if (cp == 0 || r->code[control[cp - 1]].op != OP_BEGIN)
				return fail(r, line, "until without begin");
			in->value = control[--cp] + 1;
			break;
		}
		r->ncode++;
	}
	if (cp != 0)
		return fail(r, r->code[control[cp - 1]].line, "unfinished control structure");
	return (0);
}

#define NEED(n) do { if (r->sp < (n)) { fail(r, in->line, "stack underflow"); return 1; } } while (0)
#define ROOM() do { if (r->sp == RPN_STACK) { fail(r, in->line, "stack overflow"); return 1; } } while (0)
#define TOP r->stack[r->sp - 1]
#define NEXT r->stack[r->sp - 2]

/* Runs the instructions; returns the exit status. */
static int
execute(struct rpn *r)
{
	long steps = 0, a;
	int pc = 0;

	while (pc < r->ncode) {
		struct insn *in = &r->code[pc++];

		if (++steps > RPN_STEPS) {
			fail(r, in->line, "too many steps");
			return (1);
		}
		switch (in->op) {
		case OP_NUM: ROOM(); r->stack[r->sp++] = in->value; break;
		case OP_ADD: NEED(2); NEXT += TOP; r->sp--; break;
		case OP_SUB: NEED(2); NEXT -= TOP; r->sp--; break;
		case OP_MUL: NEED(2); NEXT *= TOP; r->sp--; break;
		case OP_DIV:
		case OP_MOD:
			NEED(2);
			if (TOP == 0) {
				fail(r, in->line, "division by zero");
				return (1);
			}
			NEXT = in->op == OP_DIV ? NEXT / TOP : NEXT % TOP;
			r->sp--;
			break;
		case OP_EQ: NEED(2); NEXT = NEXT == TOP; r->sp--; break;
		case OP_LT: NEED(2); NEXT = NEXT < TOP; r->sp--; break;
		case OP_GT: NEED(2); NEXT = NEXT > TOP; r->sp--; break;
		case OP_DUP: NEED(1); ROOM(); r->stack[r->sp] = TOP; r->sp++; break;
		case OP_DROP: NEED(1); r->sp--; break;
		case OP_SWAP: NEED(2); a = TOP; TOP = NEXT; NEXT = a; break;
		case OP_OVER: NEED(2); ROOM(); r->stack[r->sp] = NEXT; r->sp++; break;
		case OP_ROT:
			NEED(3);
			a = r->stack[r->sp - 3];
			r->stack[r->sp - 3] = NEXT;
			NEXT = TOP;
			TOP = a;
			break;
		case OP_DOT: NEED(1); uprintf("%ld", TOP); r->sp--; break;
		case OP_STR: uprintf("%.*s", in->len, in->text); break;
		case OP_EMIT: NEED(1); uprintf("%c", (int)(TOP & 0xff)); r->sp--; break;
		case OP_CR: uprintf("\n"); break;
		case OP_ARGC: ROOM(); r->stack[r->sp++] = r->epp->ep_argc - 1; break;
		case OP_ARG:
			NEED(1);
			if (TOP < 1 || TOP >= r->epp->ep_argc ||
			    !number(r->epp->ep_argv[TOP], strlen(r->epp->ep_argv[TOP]), &a)) {
				fail(r, in->line, "no such numeric argument");
				return (1);
			}
			TOP = a;
			break;
		case OP_IF: NEED(1); if (r->stack[--r->sp] == 0) pc = in->value; break;
		case OP_ELSE: pc = in->value; break;
		case OP_THEN: case OP_BEGIN: break;
		case OP_DO:
			NEED(2);
			if (r->lp == RPN_STACK) {
				fail(r, in->line, "loops nested too deeply");
				return (1);
			}
			r->loops[r->lp][0] = TOP;
			r->loops[r->lp][1] = NEXT;
			r->lp++;
			r->sp -= 2;
			break;
		case OP_LOOP:
			if (++r->loops[r->lp - 1][0] < r->loops[r->lp - 1][1])
				pc = in->value;
			else
				r->lp--;
			break;
		case OP_I:
			ROOM();
			if (r->lp == 0) {
				fail(r, in->line, "i outside a loop");
				return (1);
			}
			r->stack[r->sp++] = r->loops[r->lp - 1][0];
			break;
		case OP_UNTIL: NEED(1); if (r->stack[--r->sp] == 0) pc = in->value; break;
		case OP_EXIT: NEED(1); return (int)(TOP & 0xff);
		}
	}
	return (0);
}

/* ep_entry: runs the program the kernel offered and rpn_check accepted. */
static int
rpn_run(struct proc *p, struct exec_package *epp)
{
	struct rpn *r;
	int status;

	r = malloc(sizeof(*r), M_TEMP, M_WAITOK | M_ZERO);
	r->epp = epp;
	if (compile(r, (const char *)epp->ep_daddr, epp->ep_dsize) != 0)
		status = 1;
	else
		status = execute(r);
	free(r->code, M_TEMP);
	free(r, M_TEMP);
	return (status);
}

/* es_check: accept a file whose first line is the magic line, decline the rest. */
static int
rpn_check(struct proc *p, struct exec_package *epp)
{
	const char *hdr = epp->ep_hdr;
	size_t n = sizeof(RPN_MAGIC) - 1;

	if (epp->ep_hdrvalid < n || memcmp(hdr, RPN_MAGIC, n) != 0)
		return (ENOEXEC);
	if (epp->ep_hdrvalid > n && !is_space(hdr[n]))
		return (ENOEXEC);
	epp->ep_entry = (u_long)rpn_run;
	return (0);
}

static struct execsw rpn_execsw = {
	sizeof(RPN_MAGIC),	/* the magic line and the character after it */
	rpn_check,
	NULL
};

/* An execution interpreter in the first empty execsw slot (-1). */
MOD_EXEC("rpn", -1, &rpn_execsw)

int
rpn_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}
